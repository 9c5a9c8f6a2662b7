#include "common/metric_catalog.h"

#include <gtest/gtest.h>

namespace andon {
namespace {

TEST(MetricCatalogTest, KnownAndUnknown) {
  auto m = LookupMetric("syscalls");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->kind(), v1::COUNTER);
  auto bad = LookupMetric("nosuch");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(bad.status().message().find("syscalls"), std::string::npos);
}

}  // namespace
}  // namespace andon
