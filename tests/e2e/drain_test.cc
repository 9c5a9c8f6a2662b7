// Resharding through the real controller and three real leaves: hosts hold
// control streams as agents do; draining a leaf moves exactly its hosts,
// each told once over its stream, and taking it back returns exactly those;
// a leaf that stops loses its hosts to the others and gets them back when
// it returns. Every host is on one leaf at every step, and what the hosts
// sent before and after a move is all counted, once, at their leaves and at
// the root.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "andon/v1/agent.grpc.pb.h"
#include "common/grpc_channel.h"
#include "tests/harness/local_cluster.h"
#include "tests/harness/sim_sender.h"

namespace andon::testing {
namespace {

constexpr int kHosts = 30;
constexpr int kLeaves = 3;
const absl::Duration kTimeout = absl::Seconds(60);

// One host's control stream, held open as an agent holds it; records the
// assignments the controller pushes on it.
class StreamHost {
 public:
  StreamHost(v1::AgentControl::Stub* stub, std::string host_id, int n)
      : host_id_(std::move(host_id)) {
    // As the agent does: Register (which places the host), then the stream.
    v1::AgentMessage hello;
    hello.mutable_hello()->set_instance_id(absl::StrCat("0123456789abcdef0123456789ab", 3000 + n));
    hello.mutable_hello()->mutable_host()->set_host_id(host_id_);
    grpc::ClientContext register_ctx;
    v1::RegisterResponse registered;
    if (!stub->Register(&register_ctx, hello.hello(), &registered).ok()) return;
    stream_ = stub->Control(&ctx_);
    ok_ = stream_->Write(hello);
    reader_ = std::thread([this] {
      v1::ControlMessage in;
      while (stream_->Read(&in)) {
        if (!in.has_assignment()) continue;
        absl::MutexLock lock(&mu_);
        assignments_.push_back(in.assignment().id());
      }
    });
  }
  ~StreamHost() {
    if (stream_ == nullptr) return;
    ctx_.TryCancel();
    reader_.join();
    (void)stream_->Finish();
  }
  bool ok() const { return ok_; }
  const std::string& host_id() const { return host_id_; }
  std::vector<std::string> assignments() const {
    absl::MutexLock lock(&mu_);
    return assignments_;
  }

 private:
  const std::string host_id_;
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::AgentMessage, v1::ControlMessage>> stream_;
  bool ok_ = false;
  std::thread reader_;
  mutable absl::Mutex mu_;
  std::vector<std::string> assignments_ ABSL_GUARDED_BY(mu_);
};

class DrainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_ = std::make_unique<LocalCluster>(
        LocalCluster::Options{.with_agent = false, .leaves = kLeaves});
    ASSERT_TRUE(cluster_->Start().ok()) << cluster_->LogTails();
    stub_ = v1::AgentControl::NewStub(NewChannel(cluster_->controller_grpc()));
    for (int i = 0; i < kHosts; ++i) {
      hosts_.push_back(
          std::make_unique<StreamHost>(stub_.get(), absl::StrCat("drain-host-", i), i));
      ASSERT_TRUE(hosts_.back()->ok());
    }
    ASSERT_TRUE(cluster_
                    ->WaitUntil(kTimeout, "every host connected and on a leaf",
                                [&] { return Placement().size() == kHosts; })
                    .ok())
        << cluster_->LogTails();
  }

  // Connected hosts -> their aggregator, as the controller records them.
  std::map<std::string, std::string> Placement() {
    v1::ListHostsRequest request;
    request.set_page_size(1000);
    auto hosts = cluster_->client().ListHosts(request);
    std::map<std::string, std::string> out;
    if (!hosts.ok()) return out;
    for (const v1::Host& h : hosts->hosts()) {
      if (h.connected() && !h.aggregator_id().empty()) out[h.info().host_id()] = h.aggregator_id();
    }
    return out;
  }
  std::set<std::string> HostsOn(const std::map<std::string, std::string>& placement,
                                const std::string& leaf) {
    std::set<std::string> out;
    for (const auto& [host, agg] : placement) {
      if (agg == leaf) out.insert(host);
    }
    return out;
  }
  std::string AddressOf(const std::string& leaf) {
    for (int i = 0; i < kLeaves; ++i) {
      if (cluster_->leaf_id(i) == leaf) return cluster_->leaf_grpc(i);
    }
    return "";
  }
  // The leaf (other than `other_than`) holding the most hosts.
  std::string BusiestLeaf(const std::map<std::string, std::string>& placement,
                          const std::string& other_than = "") {
    std::string best;
    size_t most = 0;
    for (int i = 0; i < kLeaves; ++i) {
      const std::string id = cluster_->leaf_id(i);
      const size_t n = HostsOn(placement, id).size();
      if (id != other_than && n > most) {
        best = id;
        most = n;
      }
    }
    return best;
  }
  // Each host sends one window of `value` syscalls (per host, by index) to
  // the leaf it is on now, as batch `sequence`; the expected totals follow.
  void SendFromEvery(uint64_t sequence, double value, absl::Time window) {
    const auto placement = Placement();
    for (int i = 0; i < kHosts; ++i) {
      const std::string& host = hosts_[i]->host_id();
      SimSender sender(AddressOf(placement.at(host)), host);
      auto batch = sender.Batch(sequence);
      *batch.add_points() = sender.SyscallPoint("app", value + i, window);
      ASSERT_TRUE(sender.Push(batch).ok()) << host;
      expected_[host] += value + i;
      fleet_expected_ += value + i;
    }
  }
  // Every host's drill-down sums every window it sent, wherever it was; the
  // root's fleet-wide sum is every window once.
  void ExpectEverythingCountedOnce() {
    auto by_host =
        sdk::MakeRangeQuery("syscalls", absl::Now(), absl::Minutes(10), absl::ZeroDuration());
    by_host.add_group_by("host");
    for (const auto& h : hosts_) {
      auto q = by_host;
      sdk::AddEqualMatcher(q, "host", h->host_id());
      auto resp = cluster_->client().Query(q);
      ASSERT_TRUE(resp.ok()) << resp.status();
      ASSERT_EQ(resp->series_size(), 1) << h->host_id();
      EXPECT_EQ(resp->series(0).total(), expected_[h->host_id()]) << h->host_id();
    }
    ASSERT_TRUE(cluster_->WaitForLeavesForwarded().ok()) << cluster_->LogTails();
    auto fleet =
        sdk::MakeRangeQuery("syscalls", absl::Now(), absl::Minutes(10), absl::ZeroDuration());
    fleet.add_group_by("comm");
    auto resp = cluster_->client().Query(fleet);
    ASSERT_TRUE(resp.ok()) << resp.status();
    ASSERT_EQ(resp->series_size(), 1);
    EXPECT_EQ(resp->series(0).total(), fleet_expected_);
  }

  std::unique_ptr<LocalCluster> cluster_;
  std::unique_ptr<v1::AgentControl::Stub> stub_;
  std::vector<std::unique_ptr<StreamHost>> hosts_;
  std::map<std::string, double> expected_;
  double fleet_expected_ = 0;
};

TEST_F(DrainTest, DrainMovesExactlyTheLeafsHostsAndUndrainBringsThemBack) {
  const auto before = Placement();
  const std::string drained = BusiestLeaf(before);
  const std::set<std::string> on_drained = HostsOn(before, drained);
  ASSERT_FALSE(on_drained.empty());
  SendFromEvery(1, 100, absl::Now() - absl::Seconds(30));

  auto drain = cluster_->client().DrainAggregator(drained, true);
  ASSERT_TRUE(drain.ok()) << drain.status();
  EXPECT_TRUE(drain->draining());
  std::map<std::string, std::string> after;
  ASSERT_TRUE(cluster_
                  ->WaitUntil(kTimeout, "no host left on the drained leaf",
                              [&] {
                                after = Placement();
                                return after.size() == kHosts && HostsOn(after, drained).empty();
                              })
                  .ok())
      << cluster_->LogTails();
  for (const auto& h : hosts_) {
    const std::string& id = h->host_id();
    if (on_drained.count(id)) {
      // Told once, over its stream, to go where the controller says it is.
      ASSERT_TRUE(cluster_
                      ->WaitUntil(kTimeout, id + " told its new leaf",
                                  [&] { return !h->assignments().empty(); })
                      .ok());
      EXPECT_EQ(h->assignments(), std::vector<std::string>{after.at(id)}) << id;
      EXPECT_NE(after.at(id), drained);
    } else {
      // The controller records a move before it tells the host; none here.
      EXPECT_EQ(after.at(id), before.at(id)) << id << " moved though its leaf was not drained";
      EXPECT_TRUE(h->assignments().empty()) << id;
    }
  }
  SendFromEvery(2, 1000, absl::Now() - absl::Seconds(20));

  auto undrain = cluster_->client().DrainAggregator(drained, false);
  ASSERT_TRUE(undrain.ok()) << undrain.status();
  ASSERT_TRUE(cluster_
                  ->WaitUntil(kTimeout, "the undrained leaf's hosts back",
                              [&] { return HostsOn(Placement(), drained) == on_drained; })
                  .ok())
      << cluster_->LogTails();
  EXPECT_EQ(Placement(), before) << "every host back where it started, none else moved";
  for (const auto& h : hosts_) {
    if (!on_drained.count(h->host_id())) {
      EXPECT_TRUE(h->assignments().empty()) << h->host_id();
    }
  }
  SendFromEvery(3, 10000, absl::Now() - absl::Seconds(10));
  ExpectEverythingCountedOnce();

  // Both changes are in the audit log.
  v1::ListAuditRequest audit_request;
  audit_request.set_object(drained);
  auto audit = cluster_->client().ListAudit(audit_request);
  ASSERT_TRUE(audit.ok()) << audit.status();
  EXPECT_EQ(audit->entries_size(), 2);
}

TEST_F(DrainTest, AStoppedLeafsHostsMoveAndComeBackWhenItReturns) {
  const auto before = Placement();
  const std::string stopped = BusiestLeaf(before);
  const std::set<std::string> on_stopped = HostsOn(before, stopped);
  ASSERT_FALSE(on_stopped.empty());
  int index = -1;
  for (int i = 0; i < kLeaves; ++i) {
    if (cluster_->leaf_id(i) == stopped) index = i;
  }
  SendFromEvery(1, 100, absl::Now() - absl::Seconds(30));
  ASSERT_TRUE(cluster_->WaitForLeavesForwarded().ok()) << cluster_->LogTails();

  cluster_->StopLeaf(index);
  std::map<std::string, std::string> after;
  ASSERT_TRUE(cluster_
                  ->WaitUntil(kTimeout, "the stopped leaf's hosts on the others",
                              [&] {
                                after = Placement();
                                return after.size() == kHosts && HostsOn(after, stopped).empty();
                              })
                  .ok())
      << cluster_->LogTails();
  for (const auto& [host, leaf] : after) {
    if (!on_stopped.count(host)) {
      EXPECT_EQ(leaf, before.at(host)) << host << " moved for nothing";
    }
  }

  ASSERT_TRUE(cluster_->ResumeLeaf(index).ok()) << cluster_->LogTails();
  ASSERT_TRUE(cluster_
                  ->WaitUntil(kTimeout, "the returned leaf's hosts back",
                              [&] { return HostsOn(Placement(), stopped) == on_stopped; })
                  .ok())
      << cluster_->LogTails();
  EXPECT_EQ(Placement(), before);
  SendFromEvery(2, 1000, absl::Now() - absl::Seconds(10));
  ExpectEverythingCountedOnce();
}

}  // namespace
}  // namespace andon::testing
