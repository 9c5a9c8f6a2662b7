#include "controller/host_listing.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "controller/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace andon::controller {
namespace {

using ::testing::HasSubstr;

class HostListingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = OpenRocksDbStore(dir_.path());
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    auto registry = Registry::Open(store_.get(), &clock_);
    ASSERT_TRUE(registry.ok());
    registry_ = std::move(*registry);
    // 30 hosts: web-00..web-19 (role=web, 10 per rack), db-00..db-09 (role=db).
    for (int i = 0; i < 30; ++i) {
      const bool web = i < 20;
      std::string id = absl::StrFormat("%s-%02d", web ? "web" : "db", web ? i : i - 20);
      ASSERT_TRUE(registry_
                      ->RegisterHost(MakeHostInfo(id, {{"role", web ? "web" : "db"},
                                                       {"rack", absl::StrCat("r", i % 2)}}),
                                     absl::StrCat("inst-", i))
                      .ok());
      // db hosts keep their control stream open; web ones do not.
      if (!web) {
        ASSERT_TRUE(registry_->SetConnected(id, absl::StrCat("inst-", i), true).ok());
      }
    }
  }

  v1::ListHostsResponse List(v1::ListHostsRequest r) {
    auto out = ListHostsPage(*registry_, r);
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? *out : v1::ListHostsResponse();
  }

  TempDir dir_;
  FakeClock clock_{absl::FromUnixSeconds(1700000000)};
  std::unique_ptr<KvStore> store_;
  std::unique_ptr<Registry> registry_;
};

TEST_F(HostListingTest, PagesThroughEveryHostOnceInIdOrder) {
  v1::ListHostsRequest r;
  r.set_page_size(7);
  std::vector<std::string> seen;
  for (int pages = 0; pages < 10; ++pages) {
    v1::ListHostsResponse page = List(r);
    EXPECT_EQ(page.counts().total(), 30u);
    for (const auto& h : page.hosts()) seen.push_back(h.info().host_id());
    if (page.next_page_token().empty()) break;
    r.set_page_token(page.next_page_token());
  }
  ASSERT_EQ(seen.size(), 30u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 30u);
}

TEST_F(HostListingTest, FiltersByMatchersNameAndStateAndCounts) {
  v1::ListHostsRequest r;
  r.set_selector("role=web,host=~web-1.*");
  r.set_count_by_label("rack");
  v1::ListHostsResponse page = List(r);
  EXPECT_EQ(page.counts().total(), 10u);  // web-10..web-19
  EXPECT_EQ(page.counts().by_label_value().at("r0"), 5u);
  r.Clear();
  r.set_name_contains("db-0");
  EXPECT_EQ(List(r).counts().total(), 10u);
  r.Clear();
  r.set_selector("rack!=r0");
  EXPECT_EQ(List(r).counts().total(), 15u);

  // States: db hosts are connected and just registered (up); web hosts
  // never opened their stream: stale until host_ttl, then down.
  r.Clear();
  page = List(r);
  EXPECT_EQ(page.counts().by_state().at("up"), 10u);
  EXPECT_EQ(page.counts().by_state().at("stale"), 20u);
  clock_.Advance(absl::Seconds(10));  // heartbeats stopped: connected db hosts go stale
  page = List(r);
  EXPECT_EQ(page.counts().by_state().at("stale"), 30u);
  clock_.Advance(absl::Seconds(60));
  r.set_state(v1::HOST_DOWN);
  page = List(r);
  EXPECT_EQ(page.counts().total(), 20u);
  EXPECT_EQ(page.hosts(0).state(), v1::HOST_DOWN);
}

TEST_F(HostListingTest, BadRequestsSayWhatIsWrong) {
  v1::ListHostsRequest r;
  r.set_order_by("cpu");
  EXPECT_THAT(ListHostsPage(*registry_, r).status().message(),
              HasSubstr("id, last_seen or aggregator"));
  r.Clear();
  r.set_page_token("abc");
  EXPECT_THAT(ListHostsPage(*registry_, r).status().message(), HasSubstr("start over"));
  r.Clear();
  r.set_selector("role=~(");
  EXPECT_EQ(ListHostsPage(*registry_, r).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace andon::controller
