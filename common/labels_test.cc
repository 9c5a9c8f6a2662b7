#include "common/labels.h"

#include <gtest/gtest.h>

namespace andon {
namespace {

TEST(LabelsTest, Parses) {
  auto l = ParseLabels("role=db, rack=r1");
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(l->at("role"), "db");
  EXPECT_EQ(l->at("rack"), "r1");
  EXPECT_TRUE(ParseLabels("")->empty());
}

TEST(LabelsTest, RejectsBadInput) {
  EXPECT_FALSE(ParseLabels("role").ok());
  EXPECT_FALSE(ParseLabels("1x=y").ok());
  EXPECT_FALSE(ParseLabels("a=b,a=c").ok());
  EXPECT_NE(ParseLabels("role").status().message().find("name=value"), std::string::npos);
}

}  // namespace
}  // namespace andon
