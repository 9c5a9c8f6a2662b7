// Needs root and a kernel with BTF: loads the real probe. Loopback only.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>

#include "agent/bpf/libbpf_status.h"
#include "agent/probes/tcp/tcp_probe.h"
#include "agent/window.h"
#include "common/series_key.h"
#include "gtest/gtest.h"

namespace andon::agent {
namespace {

constexpr int kConnects = 20;
constexpr char kComm[] = "andontest_tcp";

// Closes the fd on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

sockaddr_in Loopback(uint16_t port) {
  sockaddr_in a = {};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

uint16_t PortOf(int fd) {
  sockaddr_in a = {};
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

uint64_t Counter(const std::vector<v1::Point>& points, const std::string& metric) {
  uint64_t n = 0;
  for (const v1::Point& p : points) {
    if (p.series().metric() == metric && LabelValue(p.series(), "comm") == kComm) {
      n += p.value().counter();
    }
  }
  return n;
}

uint64_t LatencySamples(const std::vector<v1::Point>& points) {
  uint64_t n = 0;
  for (const v1::Point& p : points) {
    if (p.series().metric() == "tcp_connect_latency_ns" &&
        LabelValue(p.series(), "comm") == kComm) {
      n += p.value().distribution().count();
    }
  }
  return n;
}

std::string Field(const v1::Event& e, const std::string& name) {
  for (const v1::Label& f : e.fields()) {
    if (f.name() == name) return f.value();
  }
  return "";
}

class TcpProbeBpfTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists("/sys/kernel/btf/vmlinux")) {
      GTEST_SKIP() << "no kernel BTF at /sys/kernel/btf/vmlinux: cannot run BPF tests";
    }
    if (geteuid() != 0) GTEST_SKIP() << "BPF needs root; run the bpf tests as root";
    InstallLibbpfLogger();
    // Sockets are attributed to the thread that connects or listens.
    prctl(PR_SET_NAME, kComm, 0, 0, 0);
    absl::Status s = probe_.Init();
    ASSERT_TRUE(s.ok()) << s;
  }

  TcpProbe probe_;
};

TEST_F(TcpProbeBpfTest, FallsBackToTheTracepointWithoutFentry) {
  // This kernel has no fentry (EPERM), so the optional attach point must
  // have been skipped in favour of the tracepoint.
  EXPECT_EQ(probe_.status().attach_point(), "tracepoint:sock:inet_sock_set_state");
  EXPECT_EQ(probe_.status().state(), v1::ProbeState::ATTACHED);
}

TEST_F(TcpProbeBpfTest, CountsLoopbackConnectsAndAcceptsExactly) {
  WindowAccumulator acc(absl::Seconds(1), {});
  const absl::Time t0 = absl::Now();
  ASSERT_TRUE(probe_.Collect(t0, acc).ok());
  acc.FlushAll();  // only what follows counts

  Fd listener(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in any = Loopback(0);
  ASSERT_EQ(bind(listener.get(), reinterpret_cast<sockaddr*>(&any), sizeof(any)), 0);
  ASSERT_EQ(listen(listener.get(), 64), 0);
  sockaddr_in target = Loopback(PortOf(listener.get()));
  for (int i = 0; i < kConnects; ++i) {
    Fd client(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_EQ(connect(client.get(), reinterpret_cast<sockaddr*>(&target), sizeof(target)), 0)
        << strerror(errno);
    Fd server(accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    ASSERT_GE(server.get(), 0) << strerror(errno);
  }
  ASSERT_TRUE(probe_.Collect(t0, acc).ok());
  std::vector<v1::Point> points = acc.FlushAll();
  EXPECT_EQ(Counter(points, "tcp_connects"), static_cast<uint64_t>(kConnects));
  EXPECT_EQ(Counter(points, "tcp_accepts"), static_cast<uint64_t>(kConnects));
  EXPECT_EQ(LatencySamples(points), static_cast<uint64_t>(kConnects));
  EXPECT_EQ(Counter(points, "tcp_resets"), 0u);
  EXPECT_EQ(probe_.status().drops(), 0u);
}

TEST_F(TcpProbeBpfTest, AConnectToAClosedPortIsAResetWithItsAddresses) {
  WindowAccumulator acc(absl::Seconds(1), {});
  const absl::Time t0 = absl::Now();
  ASSERT_TRUE(probe_.Collect(t0, acc).ok());
  acc.FlushAll();

  uint16_t closed_port = 0;
  {
    // A port that was free a moment ago, now with nothing listening.
    Fd probe_socket(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in any = Loopback(0);
    ASSERT_EQ(bind(probe_socket.get(), reinterpret_cast<sockaddr*>(&any), sizeof(any)), 0);
    closed_port = PortOf(probe_socket.get());
  }
  Fd client(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in target = Loopback(closed_port);
  ASSERT_NE(connect(client.get(), reinterpret_cast<sockaddr*>(&target), sizeof(target)), 0);
  ASSERT_EQ(errno, ECONNREFUSED);

  ASSERT_TRUE(probe_.Collect(t0, acc).ok());
  std::vector<v1::Point> points = acc.FlushAll();
  EXPECT_GE(Counter(points, "tcp_resets"), 1u);
  EXPECT_EQ(Counter(points, "tcp_connects"), 1u);
  EXPECT_EQ(LatencySamples(points), 0u);

  // The event arrives through the ring buffer's poll thread.
  bool seen = false;
  for (int attempt = 0; attempt < 100 && !seen; ++attempt) {
    for (const v1::Event& e : probe_.RecentEvents()) {
      if (e.type() == "tcp_reset" && Field(e, "direction") == "received" &&
          Field(e, "dport") == std::to_string(closed_port)) {
        seen = true;
        EXPECT_EQ(Field(e, "comm"), kComm);
        EXPECT_EQ(Field(e, "daddr"), "127.0.0.1");
        EXPECT_EQ(Field(e, "saddr"), "127.0.0.1");
        EXPECT_EQ(Field(e, "pid"), std::to_string(getpid()));
        EXPECT_NEAR(static_cast<double>(e.time_ns()), absl::ToUnixNanos(absl::Now()), 60e9);
      }
    }
    if (!seen) absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_TRUE(seen) << "no received tcp_reset event for port " << closed_port;
}

}  // namespace
}  // namespace andon::agent
