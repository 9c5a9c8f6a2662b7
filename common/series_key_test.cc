#include "common/series_key.h"

#include <gtest/gtest.h>

namespace andon {
namespace {

v1::SeriesKey Key(std::initializer_list<std::pair<const char*, const char*>> labels) {
  v1::SeriesKey k;
  k.set_metric("syscalls");
  for (auto& [n, v] : labels) {
    auto* l = k.add_labels();
    l->set_name(n);
    l->set_value(v);
  }
  return k;
}

TEST(SeriesKeyTest, CanonicalOrderGivesSameId) {
  auto a = Key({{"comm", "bash"}, {"host", "h1"}});
  auto b = Key({{"host", "h1"}, {"comm", "bash"}});
  CanonicalizeSeriesKey(a);
  CanonicalizeSeriesKey(b);
  EXPECT_EQ(SeriesId(a), SeriesId(b));
  EXPECT_EQ(SeriesKeyToString(b), "syscalls{comm=\"bash\",host=\"h1\"}");
}

TEST(SeriesKeyTest, DifferentValuesDiffer) {
  auto a = Key({{"comm", "ab"}, {"host", "c"}});
  auto b = Key({{"comm", "a"}, {"host", "bc"}});
  EXPECT_NE(SeriesId(a), SeriesId(b));
}

TEST(SeriesKeyTest, IdIsStable) {
  // Stored on disk: a change of hash breaks every existing data directory.
  auto a = Key({{"comm", "bash"}});
  EXPECT_EQ(SeriesId(a), SeriesId(a));
  v1::SeriesKey empty;
  EXPECT_NE(SeriesId(empty), SeriesId(a));
}

TEST(SeriesKeyTest, DuplicateLabelNamesDropped) {
  auto a = Key({{"host", "h1"}, {"host", "h2"}, {"comm", "x"}});
  CanonicalizeSeriesKey(a);
  ASSERT_EQ(a.labels_size(), 2);
  EXPECT_EQ(LabelValue(a, "host"), "h1");
}

}  // namespace
}  // namespace andon
