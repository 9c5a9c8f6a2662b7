#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace andon::agent {

// One field of a classic tracepoint's record, as its format describes it.
struct TracepointField {
  enum class Kind {
    kNumber,   // an integer (or pointer) of 1, 2, 4 or 8 bytes
    kChars,    // char name[size]: a string
    kDataLoc,  // __data_loc char[] name: a u32 locating a string in the record
    kOther,    // arrays of other types, bit fields: not usable as an operand
  };
  std::string name;
  uint32_t offset = 0;  // from the record's start (the common fields included)
  uint32_t size = 0;
  bool is_signed = false;
  Kind kind = Kind::kOther;
};

struct TracepointFormat {
  std::vector<TracepointField> fields;
  std::string source;  // where the layout came from: "tracefs" or "btf"
};

// The record layout of tracepoint CATEGORY:NAME. Reads
// /sys/kernel/tracing/events/CATEGORY/NAME/format, mounting tracefs first if
// it is absent (and logging so). Where tracefs cannot be had, falls back to
// the kernel's BTF struct trace_event_raw_NAME (which exists when the event
// is its own class) and logs that. NOT_FOUND: "tracepoint sched:nosuch: no
// such tracepoint (looked in /sys/kernel/tracing/events)".
absl::StatusOr<TracepointFormat> ReadTracepointFormat(absl::string_view category,
                                                      absl::string_view name);

// Parses the text of a tracefs `format` file. Exposed for tests.
std::vector<TracepointField> ParseTracepointFormat(absl::string_view text);

// The record layout from the running kernel's BTF struct
// trace_event_raw_NAME. Exposed for tests.
absl::StatusOr<std::vector<TracepointField>> TracepointFieldsFromBtf(absl::string_view name);

}  // namespace andon::agent
