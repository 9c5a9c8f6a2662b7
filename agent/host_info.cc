#include "agent/host_info.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <filesystem>

namespace andon::agent {

std::string LocalHostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

std::vector<std::string> DetectCapabilities() {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<std::string> caps;
  if (fs::exists("/sys/kernel/tracing/events", ec) ||
      fs::exists("/sys/kernel/debug/tracing/events", ec)) {
    caps.push_back("tracepoint");
  }
  // Raw tracepoints exist on every kernel recent enough to run the agent.
  caps.push_back("raw_tracepoint");
  // The perf PMUs that uprobe/kprobe attachments go through.
  if (fs::exists("/sys/bus/event_source/devices/uprobe", ec)) caps.push_back("uprobe");
  if (fs::exists("/sys/bus/event_source/devices/kprobe", ec)) caps.push_back("kprobe");
  if (fs::exists("/sys/kernel/btf/vmlinux", ec)) caps.push_back("btf");
  return caps;
}

v1::HostInfo DescribeHost(const std::string& host_id,
                          const std::map<std::string, std::string>& labels) {
  v1::HostInfo info;
  info.set_host_id(host_id);
  info.set_hostname(LocalHostname());
  struct utsname u = {};
  if (uname(&u) == 0) info.set_kernel_release(u.release);
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  info.set_num_cpus(cpus > 0 ? static_cast<uint32_t>(cpus) : 0);
  for (const auto& [k, v] : labels) (*info.mutable_labels())[k] = v;
  info.set_agent_version(kAgentVersion);
  for (std::string& c : DetectCapabilities()) info.add_capabilities(std::move(c));
  return info;
}

}  // namespace andon::agent
