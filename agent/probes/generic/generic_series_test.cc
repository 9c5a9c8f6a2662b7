#include "agent/probes/generic/generic_series.h"

#include <linux/types.h>

#include <cstring>

#include "agent/probes/generic/generic.h"
#include "common/value/log_linear_bucket.h"
#include "common/value/value_test_util.h"
#include "gtest/gtest.h"

namespace andon::agent {
namespace {

TEST(SeriesBudgetTest, AdmitsUpToTheLimitPerWindowAndCountsFoldsOnce) {
  SeriesBudget budget(2);
  const absl::Time w1 = absl::FromUnixSeconds(100);
  EXPECT_TRUE(budget.Admit(w1, "a"));
  EXPECT_TRUE(budget.Admit(w1, "b"));
  EXPECT_FALSE(budget.Admit(w1, "c"));
  EXPECT_FALSE(budget.Admit(w1, "c"));  // the same set, same window: counted once
  EXPECT_TRUE(budget.Admit(w1, "a"));   // admitted sets stay admitted
  EXPECT_EQ(budget.folded(), 1u);
  const absl::Time w2 = absl::FromUnixSeconds(101);
  EXPECT_TRUE(budget.Admit(w2, "c"));  // a new window starts afresh
  EXPECT_TRUE(budget.Admit(w2, "d"));
  EXPECT_FALSE(budget.Admit(w2, "a"));
  EXPECT_EQ(budget.folded(), 2u);
}

TEST(SlotValueTest, RendersStringsSignedAndUnsigned) {
  generic_key key = {};
  key.num[0] = static_cast<__u64>(-5);
  key.num[1] = static_cast<__u64>(-5);
  strcpy(key.str[1], "nginx");
  EXPECT_EQ(SlotValue(key, 0, SlotFormat::kSigned), "-5");
  EXPECT_EQ(SlotValue(key, 0, SlotFormat::kUnsigned), "18446744073709551611");
  EXPECT_EQ(SlotValue(key, 1, SlotFormat::kString), "nginx");
  memset(key.str[0], 'x', GENERIC_STR_LEN);  // unterminated: stops at the slot's end
  EXPECT_EQ(SlotValue(key, 0, SlotFormat::kString).size(), size_t{GENERIC_STR_LEN});
}

TEST(ToDistributionTest, CountsExactlyAndBoundsMinMaxByTheExtremeBuckets) {
  const int lo = andon_log_linear_bucket(1000);
  const int hi = andon_log_linear_bucket(2000000);
  v1::Value v = ToDistribution({{lo, 3}, {hi, 2}, {hi + 1, 0}}, 4003000.0);
  const v1::Distribution& d = v.distribution();
  EXPECT_EQ(d.sub_bucket_bits(), 7u);
  EXPECT_EQ(d.count(), 5u);
  EXPECT_EQ(d.sum(), 4003000.0);
  EXPECT_EQ(value_test::BucketMap(d).size(), 2u);  // the empty bucket is not listed
  EXPECT_LE(d.min(), 1000.0);
  EXPECT_GE(d.min(), 1000.0 * (1 - 1.0 / 128));
  EXPECT_GE(d.max(), 2000000.0);
  EXPECT_LE(d.max(), 2000000.0 * (1 + 1.0 / 128));
}

}  // namespace
}  // namespace andon::agent
