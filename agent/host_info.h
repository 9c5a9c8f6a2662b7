#pragma once

#include <map>
#include <string>
#include <vector>

#include "andon/v1/agent.pb.h"

namespace andon::agent {

inline constexpr char kAgentVersion[] = "0.1.0";

// This machine's hostname, or "localhost" if it has none.
std::string LocalHostname();

// Attach types that work on this kernel, judged from sysfs: "tracepoint",
// "raw_tracepoint", "uprobe", "kprobe", "btf". Cheap; no BPF is loaded.
std::vector<std::string> DetectCapabilities();

// The HostInfo this agent registers with: uname release, online CPUs,
// hostname, version and capabilities filled in.
v1::HostInfo DescribeHost(const std::string& host_id,
                          const std::map<std::string, std::string>& labels);

}  // namespace andon::agent
