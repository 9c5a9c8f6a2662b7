#include "common/metric_catalog.h"

#include <gtest/gtest.h>

namespace andon {
namespace {

TEST(MetricCatalogTest, KnowsTheBuiltInMetrics) {
  MetricCatalog catalog;
  auto m = catalog.Lookup("syscalls");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->kind(), v1::COUNTER);
  EXPECT_EQ(catalog.Lookup("bio_latency_ns")->kind(), v1::DISTRIBUTION);
  EXPECT_EQ(catalog.Lookup("cpu_profile")->kind(), v1::TOP_K);
  auto bad = catalog.Lookup("nosuch");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(bad.status().message().find("syscalls"), std::string::npos);
}

TEST(MetricCatalogTest, LearnsDeclaredMetricsAndRefusesAChangeOfKind) {
  MetricCatalog catalog;
  v1::MetricInfo m;
  m.set_name("nginx_requests");
  m.set_kind(v1::COUNTER);
  m.add_labels("host");
  m.add_labels("comm");
  EXPECT_EQ(catalog.Declare(m).value(), true);
  EXPECT_EQ(catalog.Declare(m).value(), false) << "the same declaration changes nothing";
  EXPECT_EQ(catalog.Lookup("nginx_requests")->labels_size(), 2);

  m.set_kind(v1::DISTRIBUTION);
  auto changed = catalog.Declare(m);
  EXPECT_EQ(changed.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(catalog.Lookup("nginx_requests")->kind(), v1::COUNTER);

  v1::MetricInfo builtin = *catalog.Lookup("syscalls");
  builtin.add_labels("extra");
  EXPECT_EQ(catalog.Declare(builtin).value(), false);
  EXPECT_EQ(catalog.Lookup("syscalls")->labels_size(), 3) << "built-ins keep their definition";
}

TEST(MetricCatalogTest, RefusesBadDeclarations) {
  MetricCatalog catalog;
  v1::MetricInfo m;
  m.set_name("9bad");
  m.set_kind(v1::COUNTER);
  m.add_labels("host");
  EXPECT_EQ(catalog.Declare(m).status().code(), absl::StatusCode::kInvalidArgument);
  m.set_name("nohost");
  m.clear_labels();
  EXPECT_EQ(catalog.Declare(m).status().code(), absl::StatusCode::kInvalidArgument);
  m.add_labels("host");
  m.set_kind(v1::METRIC_KIND_UNSPECIFIED);
  EXPECT_EQ(catalog.Declare(m).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace andon
