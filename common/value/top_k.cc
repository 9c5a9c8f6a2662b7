#include "common/value/top_k.h"

#include <algorithm>

namespace andon {
namespace {

bool EntryBefore(const v1::TopK::Entry& a, const v1::TopK::Entry& b) {
  if (a.count() != b.count()) return a.count() > b.count();
  return a.key() < b.key();
}

// 0 means "not set" and loses to any capacity.
uint32_t MinCapacity(uint32_t a, uint32_t b) {
  if (a == 0) return b;
  if (b == 0) return a;
  return std::min(a, b);
}

void SortEntries(v1::TopK& t) {
  std::sort(t.mutable_entries()->begin(), t.mutable_entries()->end(), EntryBefore);
}

// Appends `key` unless its interval is the default one, [0, bound].
void AddEntry(absl::string_view key, uint64_t count, uint64_t error, uint64_t bound, v1::TopK& t) {
  if (count == bound && error == bound) return;
  v1::TopK::Entry* e = t.add_entries();
  e->set_key(std::string(key));
  e->set_count(count);
  e->set_error(error);
}

}  // namespace

TopKBuilder::TopKBuilder(uint32_t capacity) : capacity_(std::max<uint32_t>(capacity, 1)) {}

void TopKBuilder::Add(absl::string_view key, uint64_t count) {
  if (count == 0) return;
  total_ += count;
  if (auto it = counters_.find(key); it != counters_.end()) {
    by_count_.erase({it->second.count, &it->first});
    it->second.count += count;
    by_count_.insert({it->second.count, &it->first});
    return;
  }
  Counter counter{count, 0};
  if (counters_.size() >= capacity_) {
    // Space-Saving: the newcomer takes the smallest counter over, and its
    // count as possible over-count.
    auto victim = by_count_.begin();
    const uint64_t smallest = victim->first;
    auto victim_counter = counters_.find(*victim->second);
    by_count_.erase(victim);
    counters_.erase(victim_counter);
    counter = Counter{smallest + count, smallest};
    evicted_ = true;
  }
  auto [it, inserted] = counters_.emplace(std::string(key), counter);
  by_count_.insert({it->second.count, &it->first});
}

v1::TopK TopKBuilder::ToProto() const {
  v1::TopK t;
  t.set_capacity(capacity_);
  t.set_total(total_);
  // Every evicted key was evicted at a count no larger than today's smallest.
  const uint64_t bound = evicted_ ? by_count_.begin()->first : 0;
  t.set_unlisted_bound(bound);
  for (const auto& [key, counter] : counters_) {
    AddEntry(key, counter.count, counter.error, bound, t);
  }
  SortEntries(t);
  return t;
}

void MergeTopK(const v1::TopK& from, v1::TopK& into) {
  struct Row {
    uint64_t count = 0;
    uint64_t error = 0;
    bool in_into = false;
    bool in_from = false;
  };
  // Keys point into `into` and `from`, which stay untouched until the end.
  absl::flat_hash_map<absl::string_view, Row> rows;
  rows.reserve(into.entries_size() + from.entries_size());
  for (const auto& e : into.entries()) {
    Row& row = rows[e.key()];
    row.count += e.count();
    row.error += e.error();
    row.in_into = true;
  }
  for (const auto& e : from.entries()) {
    Row& row = rows[e.key()];
    row.count += e.count();
    row.error += e.error();
    row.in_from = true;
  }
  const uint64_t into_bound = into.unlisted_bound();
  const uint64_t from_bound = from.unlisted_bound();
  const uint64_t bound = into_bound + from_bound;
  v1::TopK merged;
  merged.set_capacity(MinCapacity(into.capacity(), from.capacity()));
  merged.set_total(into.total() + from.total());
  merged.set_unlisted_bound(bound);
  merged.mutable_entries()->Reserve(static_cast<int>(rows.size()));
  for (const auto& [key, row] : rows) {
    // A summary not listing the key vouches for [0, its unlisted_bound].
    const uint64_t missing = (row.in_into ? 0 : into_bound) + (row.in_from ? 0 : from_bound);
    AddEntry(key, row.count + missing, row.error + missing, bound, merged);
  }
  SortEntries(merged);
  into = std::move(merged);
}

void TopKMerger::Add(const v1::TopK& t) {
  ++inputs_;
  total_ += t.total();
  unlisted_bound_ += t.unlisted_bound();
  capacity_ = MinCapacity(capacity_, t.capacity());
  for (const auto& e : t.entries()) {
    Sums& s = sums_[e.key()];
    s.count += e.count();
    s.error += e.error();
    if (s.last_input != inputs_) {  // a key listed twice in one input is charged once
      s.bound_listed += t.unlisted_bound();
      s.last_input = inputs_;
    }
  }
}

v1::TopK TopKMerger::ToProto() const {
  v1::TopK t;
  t.set_capacity(capacity_);
  t.set_total(total_);
  t.set_unlisted_bound(unlisted_bound_);
  t.mutable_entries()->Reserve(static_cast<int>(sums_.size()));
  for (const auto& [key, s] : sums_) {
    // The inputs not listing the key contribute their unlisted_bound.
    const uint64_t missing = unlisted_bound_ - s.bound_listed;
    AddEntry(key, s.count + missing, s.error + missing, unlisted_bound_, t);
  }
  SortEntries(t);
  return t;
}

std::vector<v1::TopK::Entry> TopKEntries(const v1::TopK& t, size_t k) {
  std::vector<v1::TopK::Entry> entries(t.entries().begin(), t.entries().end());
  std::sort(entries.begin(), entries.end(), EntryBefore);
  if (entries.size() > k) entries.resize(k);
  return entries;
}

void TruncateTopK(size_t max_entries, v1::TopK& t) {
  SortEntries(t);
  if (static_cast<size_t>(t.entries_size()) <= max_entries) return;
  // Entries are sorted, so the first dropped one has the largest dropped count.
  const uint64_t bound =
      std::max(t.unlisted_bound(), t.entries(static_cast<int>(max_entries)).count());
  t.mutable_entries()->DeleteSubrange(static_cast<int>(max_entries),
                                      t.entries_size() - static_cast<int>(max_entries));
  t.set_unlisted_bound(bound);
  // Entries now equal to the default interval [0, bound] say nothing more.
  auto* entries = t.mutable_entries();
  entries->erase(std::remove_if(entries->begin(), entries->end(),
                                [bound](const v1::TopK::Entry& e) {
                                  return e.count() == bound && e.error() == bound;
                                }),
                 entries->end());
}

}  // namespace andon
