#include "controller/events/event_tails.h"

#include "controller/test_util.h"
#include "gtest/gtest.h"

namespace andon::controller {
namespace {

v1::EventBatch Batch(std::initializer_list<const char*> types) {
  v1::EventBatch b;
  for (const char* t : types) b.add_events()->set_type(t);
  return b;
}

class EventTailsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(*OpenRocksDbStore(dir_.path()));
    registry_ = std::move(*Registry::Open(store_.get(), &clock_));
    ASSERT_TRUE(registry_->RegisterHost(MakeHostInfo("db-1", {{"role", "db"}}), "a").ok());
    ASSERT_TRUE(registry_->RegisterHost(MakeHostInfo("web-1", {{"role", "web"}}), "b").ok());
  }

  TempDir dir_;
  FakeClock clock_{absl::FromUnixSeconds(1700000000)};
  std::unique_ptr<KvStore> store_;
  std::unique_ptr<Registry> registry_;
  int pushes_ = 0;
};

TEST_F(EventTailsTest, ReturnsTheSelectedHostsEventsInOrderAndFollows) {
  EventTails tails(registry_.get(), &clock_, [this](const auto&, const auto&) {
    ++pushes_;
    return 1u;
  });
  v1::TailRequest req;
  req.set_selector("role=db");
  req.add_types("exec");
  auto first = tails.Tail(req);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(pushes_, 1);
  EXPECT_EQ(first->events_size(), 0);

  tails.Add("db-1", Batch({"exec", "exit", "exec"}));
  tails.Add("web-1", Batch({"exec"}));
  req.set_after_sequence(first->last_sequence());
  auto second = tails.Tail(req);
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->events_size(), 2) << "db-1's execs only";
  EXPECT_EQ(second->events(0).event().host(), "db-1");
  EXPECT_LT(second->events(0).sequence(), second->events(1).sequence());
  EXPECT_EQ(pushes_, 1) << "polled again at once: agents are not told again";

  req.set_after_sequence(second->last_sequence());
  auto third = tails.Tail(req);
  EXPECT_EQ(third->events_size(), 0) << "nothing new";
  clock_.Advance(absl::Seconds(25));
  ASSERT_TRUE(tails.Tail(req).ok());
  EXPECT_EQ(pushes_, 2) << "near its end, the tail is extended";
}

TEST_F(EventTailsTest, KeepsABoundedRingAndCountsWhatFellOff) {
  EventTails tails(registry_.get(), &clock_, [](const auto&, const auto&) { return 0u; });
  v1::EventBatch big;
  for (size_t i = 0; i < EventTails::kCapacity + 5; ++i) big.add_events()->set_type("exec");
  big.set_dropped(2);
  tails.Add("db-1", big);
  v1::TailRequest req;
  req.set_limit(10);
  auto resp = tails.Tail(req);
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(resp->dropped(), 7u);
  EXPECT_EQ(resp->events(0).sequence(), 6u) << "the five oldest fell off";
  v1::TailRequest bad;
  bad.mutable_keep_for()->set_seconds(3600);
  EXPECT_EQ(tails.Tail(bad).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace andon::controller
