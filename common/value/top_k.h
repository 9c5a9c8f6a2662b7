#pragma once

// Heavy hitters (the processes using most CPU, the busiest remote ports),
// carried as v1::TopK and shared by agents, aggregators and queries.
//
// What a v1::TopK means. It bounds the true count of every key: a listed
// entry's key has a true count in [count - error, count]; a key not listed
// has one in [0, unlisted_bound]. `total` is the sum of all counts added.
//
// Building (TopKBuilder): Space-Saving (Metwally et al.) with `capacity`
// counters. A new key evicts the counter with the smallest count m and takes
// count m + c with error m. Then every tracked key's true count is in
// [count - error, count], every evicted or unseen key's is at most the
// current smallest count (unlisted_bound; 0 while nothing was evicted), and
// since the counters sum to the total, unlisted_bound <= total / capacity.
//
// Merging (MergeTopK) adds the two bound functions key by key: for every key,
// count = count_a + count_b and error = error_a + error_b, where a summary
// that does not list the key contributes (unlisted_bound, unlisted_bound),
// i.e. the interval [0, unlisted_bound]; unlisted_bounds and totals add;
// capacity is the smallest non-zero one. The result is then put in canonical
// form: entries equal to the default (count == error == unlisted_bound) are
// dropped (they say nothing more), and entries are sorted by count
// descending, then key.
//
// Why this is exactly associative and commutative. A summary is a function
// key -> (count, error) with a default for unlisted keys; a merge is
// pointwise addition of two such functions, in uint64, which is associative
// and commutative; min over capacities is too; and the canonical form is a
// unique encoding of the function. So any order or grouping of merges gives
// byte-identical protos. The price: merges never forget a key, so a merged
// summary lists the union of the keys its inputs listed (at most the sum of
// their capacities), not `capacity` keys. No truncation that forgets keys
// can be exactly associative (which keys survive, and the bounds charged for
// the forgotten ones, would depend on the grouping: the Misra-Gries merge of
// Agarwal et al. is mergeable with the same error bound but not associative),
// so truncation is a separate, explicit step (TruncateTopK) for storage or
// display, never part of the merge.
//
// Bounds after any tree of merges of builder summaries with capacities c_i,
// totals n_i, total n = sum n_i and capacity c = min c_i:
//   - every entry: count - error <= true count <= count, and
//     error <= unlisted_bound <= sum n_i / c_i <= n / c;
//   - every key with true count > unlisted_bound (so every key with true count
//     > n / c) is listed;
//   - an unlisted key's true count is at most unlisted_bound.
// TruncateTopK keeps the intervals true by raising unlisted_bound (so the
// second and third points hold with the new unlisted_bound), but is not
// associative.

#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "absl/strings/string_view.h"
#include "andon/v1/types.pb.h"

namespace andon {

// Space-Saving over a stream of (key, count). Not thread-safe. Memory: about
// three times the keys' bytes plus 100 bytes per counter.
class TopKBuilder {
 public:
  // `capacity` counters (0 is taken as 1).
  explicit TopKBuilder(uint32_t capacity);

  // Adds `count` (0 is ignored) occurrences of `key`. O(log capacity).
  void Add(absl::string_view key, uint64_t count = 1);

  uint64_t total() const { return total_; }
  // The summary in canonical form (see the file comment): at most `capacity`
  // entries, sorted by count descending, then key.
  v1::TopK ToProto() const;

 private:
  struct Counter {
    uint64_t count = 0;
    uint64_t error = 0;
  };
  // Orders counters by count, then key: the first one is evicted next.
  struct ByCount {
    bool operator()(const std::pair<uint64_t, const std::string*>& a,
                    const std::pair<uint64_t, const std::string*>& b) const {
      return a.first != b.first ? a.first < b.first : *a.second < *b.second;
    }
  };

  uint32_t capacity_;
  absl::node_hash_map<std::string, Counter> counters_;  // node: stable key addresses
  std::set<std::pair<uint64_t, const std::string*>, ByCount> by_count_;
  uint64_t total_ = 0;
  bool evicted_ = false;
};

// Merges `from` into `into` as described in the file comment (exact,
// associative, commutative; never fails). Inputs need not be canonical: an
// entry listed twice in one summary counts as the sum of both.
void MergeTopK(const v1::TopK& from, v1::TopK& into);

// Merges many summaries at once, in one hash map, and emits one proto: the
// same proto as folding MergeTopK over them in any order, in O(total
// entries) instead of O(inputs x merged size). Not thread-safe.
class TopKMerger {
 public:
  void Add(const v1::TopK& t);
  v1::TopK ToProto() const;

 private:
  struct Sums {
    uint64_t count = 0;         // sum of the entry's counts where listed
    uint64_t error = 0;         // sum of the entry's errors where listed
    uint64_t bound_listed = 0;  // sum of unlisted_bound of the inputs listing it
    uint64_t last_input = 0;    // 1 + index of the last input listing it
  };
  absl::flat_hash_map<std::string, Sums> sums_;
  uint64_t inputs_ = 0;
  uint64_t total_ = 0;
  uint64_t unlisted_bound_ = 0;
  uint32_t capacity_ = 0;
};

// The first `k` entries by count descending, then key (all when k is larger).
std::vector<v1::TopK::Entry> TopKEntries(const v1::TopK& t, size_t k);

// Keeps the `max_entries` entries with the largest counts (ties: smaller key)
// and folds the others into unlisted_bound, which becomes at least the largest
// dropped count, so every bound stays true. Lossy and, unlike MergeTopK, not
// associative: use it on a summary that is stored or shown, not on one that
// will be merged again if byte-identical results matter.
void TruncateTopK(size_t max_entries, v1::TopK& t);

}  // namespace andon
