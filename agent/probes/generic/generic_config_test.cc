#include "agent/probes/generic/generic_config.h"

#include <linux/types.h>

#include "agent/probes/generic/generic.h"
#include "agent/probes/generic/tracepoint_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace andon::agent {
namespace {

using Operand = v1::GenericProbe::Operand;
using ::testing::HasSubstr;

constexpr char kForkFormat[] = R"(name: sched_process_fork
ID: 366
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:__data_loc char[] parent_comm;	offset:8;	size:4;	signed:0;
	field:pid_t parent_pid;	offset:12;	size:4;	signed:1;
	field:char child_comm[16];	offset:16;	size:16;	signed:0;
	field:unsigned long flags;	offset:32;	size:8;	signed:0;
	field:u32 mask[4];	offset:40;	size:16;	signed:0;

print fmt: "comm=%s pid=%d", __get_str(parent_comm), REC->parent_pid
)";

v1::GenericProbe Tracepoint() {
  v1::GenericProbe p;
  p.set_type(v1::GenericProbe::TRACEPOINT);
  p.set_category("sched");
  p.set_event("sched_process_fork");
  p.set_metric("forks");
  return p;
}

v1::GenericProbe Uprobe(v1::GenericProbe::Type type) {
  v1::GenericProbe p;
  p.set_type(type);
  p.set_binary("/usr/bin/x");
  p.set_symbol("f");
  p.set_metric("calls");
  return p;
}

Operand Field(const std::string& name) {
  Operand op;
  op.set_kind(Operand::FIELD);
  op.set_field(name);
  return op;
}

TEST(ParseTracepointFormatTest, ReadsOffsetsSizesSignednessAndKinds) {
  std::vector<TracepointField> f = ParseTracepointFormat(kForkFormat);
  ASSERT_EQ(f.size(), 7u);
  EXPECT_EQ(f[2].name, "parent_comm");
  EXPECT_EQ(f[2].kind, TracepointField::Kind::kDataLoc);
  EXPECT_EQ(f[2].offset, 8u);
  EXPECT_EQ(f[3].name, "parent_pid");
  EXPECT_EQ(f[3].kind, TracepointField::Kind::kNumber);
  EXPECT_TRUE(f[3].is_signed);
  EXPECT_EQ(f[4].name, "child_comm");
  EXPECT_EQ(f[4].kind, TracepointField::Kind::kChars);
  EXPECT_EQ(f[4].size, 16u);
  EXPECT_EQ(f[5].name, "flags");
  EXPECT_FALSE(f[5].is_signed);
  EXPECT_EQ(f[6].kind, TracepointField::Kind::kOther);
}

TEST(PlanGenericProbeTest, TracepointFieldsBecomeOffsetsAndFormats) {
  std::vector<TracepointField> fields = ParseTracepointFormat(kForkFormat);
  v1::GenericProbe p = Tracepoint();
  *p.add_by() = Field("parent_comm");
  *p.add_by() = Field("parent_pid");
  p.mutable_filter()->set_op(v1::GenericProbe::Filter::GE);
  *p.mutable_filter()->mutable_operand() = Field("flags");
  p.mutable_filter()->set_number(7);
  absl::StatusOr<GenericPlan> plan = PlanGenericProbe(p, &fields);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->kernel.ops[0].src, GENERIC_SRC_FIELD_DATALOC);
  EXPECT_EQ(plan->kernel.ops[0].offset, 8u);
  EXPECT_EQ(plan->kernel.ops[1].src, GENERIC_SRC_FIELD_NUM);
  EXPECT_EQ(plan->kernel.ops[1].size, 4u);
  EXPECT_TRUE(plan->kernel.ops[1].is_signed);
  EXPECT_EQ(plan->slots[0], SlotFormat::kString);
  EXPECT_EQ(plan->slots[1], SlotFormat::kSigned);
  EXPECT_EQ(plan->labels, (std::vector<std::string>{"parent_comm", "parent_pid"}));
  EXPECT_EQ(plan->kernel.ops[GENERIC_SLOT_FILTER].offset, 32u);
  EXPECT_EQ(plan->kernel.filter_op, static_cast<uint32_t>(GENERIC_OP_GE));
  EXPECT_EQ(plan->kernel.filter_number, 7);
}

TEST(PlanGenericProbeTest, UnknownFieldListsTheFields) {
  std::vector<TracepointField> fields = ParseTracepointFormat(kForkFormat);
  v1::GenericProbe p = Tracepoint();
  *p.add_by() = Field("nosuch");
  absl::StatusOr<GenericPlan> plan = PlanGenericProbe(p, &fields);
  ASSERT_FALSE(plan.ok());
  EXPECT_THAT(plan.status().message(),
              HasSubstr("no field 'nosuch'; its fields: parent_comm, parent_pid, child_comm"));
}

TEST(PlanGenericProbeTest, StringValueAndUnusableFieldAreRefused) {
  std::vector<TracepointField> fields = ParseTracepointFormat(kForkFormat);
  v1::GenericProbe p = Tracepoint();
  p.set_value_mode(v1::GenericProbe::SUM);
  *p.mutable_value() = Field("child_comm");
  EXPECT_THAT(PlanGenericProbe(p, &fields).status().message(), HasSubstr("is a string"));
  *p.mutable_value() = Field("mask");
  EXPECT_THAT(PlanGenericProbe(p, &fields).status().message(),
              HasSubstr("neither an integer nor a string"));
}

TEST(PlanGenericProbeTest, LatencyOnAUprobeSavesTheEntryAndAttachesBoth) {
  v1::GenericProbe p = Uprobe(v1::GenericProbe::UPROBE);
  p.set_value_mode(v1::GenericProbe::DISTRIBUTION);
  p.mutable_value()->set_kind(Operand::LATENCY);
  absl::StatusOr<GenericPlan> plan = PlanGenericProbe(p, nullptr);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_TRUE(plan->kernel.save_entry);
  EXPECT_TRUE(plan->kernel.attach_entry);
  EXPECT_TRUE(plan->kernel.attach_return);
  EXPECT_EQ(plan->kernel.value_mode, static_cast<uint32_t>(GENERIC_DIST));
}

TEST(PlanGenericProbeTest, UretprobeAttachesTheEntryOnlyWhenArgumentsAreUsed) {
  v1::GenericProbe p = Uprobe(v1::GenericProbe::URETPROBE);
  p.set_value_mode(v1::GenericProbe::SUM);
  p.mutable_value()->set_kind(Operand::RETVAL);
  absl::StatusOr<GenericPlan> plan = PlanGenericProbe(p, nullptr);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_FALSE(plan->kernel.attach_entry);
  EXPECT_TRUE(plan->kernel.attach_return);
  Operand* by = p.add_by();
  by->set_kind(Operand::STR_ARG);
  by->set_index(1);
  plan = PlanGenericProbe(p, nullptr);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_TRUE(plan->kernel.attach_entry);
  EXPECT_TRUE(plan->kernel.save_entry);
  EXPECT_EQ(plan->labels, std::vector<std::string>{"arg1"});
}

TEST(PlanGenericProbeTest, BadOperandsNameTheProblem) {
  v1::GenericProbe p = Uprobe(v1::GenericProbe::UPROBE);
  Operand* by = p.add_by();
  by->set_kind(Operand::ARG);
  by->set_index(6);
  EXPECT_THAT(PlanGenericProbe(p, nullptr).status().message(), HasSubstr("arg0..arg5"));
  by->set_kind(Operand::RETVAL);
  EXPECT_THAT(PlanGenericProbe(p, nullptr).status().message(), HasSubstr("use uretprobe"));
  by->set_kind(Operand::FIELD);
  EXPECT_THAT(PlanGenericProbe(p, nullptr).status().message(),
              HasSubstr("only tracepoints have fields"));
  p.clear_by();
  p.mutable_filter()->set_op(v1::GenericProbe::Filter::LT);
  p.mutable_filter()->mutable_operand()->set_kind(Operand::COMM);
  p.mutable_filter()->set_text("x");
  EXPECT_THAT(PlanGenericProbe(p, nullptr).status().message(), HasSubstr("== or !="));
  p.mutable_filter()->set_op(v1::GenericProbe::Filter::EQ);
  p.mutable_filter()->set_text("a_name_longer_than_15");
  EXPECT_THAT(PlanGenericProbe(p, nullptr).status().message(), HasSubstr("1-15 bytes"));
  for (int i = 0; i < 3; ++i) p.add_by()->set_kind(Operand::PID);
  EXPECT_THAT(PlanGenericProbe(p, nullptr).status().message(), HasSubstr("at most two"));
}

}  // namespace
}  // namespace andon::agent
