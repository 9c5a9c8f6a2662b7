#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace andon::controller {

// The controller's persistent key-value storage: the only storage surface the
// domain classes see, so no RocksDB type leaks into them. Implementations are
// thread-safe.
class KvStore {
 public:
  using ScanFn = std::function<absl::Status(absl::string_view key, absl::string_view value)>;

  virtual ~KvStore() = default;

  // Writes durably enough to survive a process crash (not a power loss).
  virtual absl::Status Put(absl::string_view key, absl::string_view value) = 0;
  virtual absl::Status Delete(absl::string_view key) = 0;
  // Writes every (key, value) at once (one write for the lot).
  virtual absl::Status PutAll(const std::vector<std::pair<std::string, std::string>>& entries) = 0;
  // Calls `fn` for every key that starts with `prefix`, in key order; stops
  // at and returns the first error `fn` returns.
  virtual absl::Status Scan(absl::string_view prefix, const ScanFn& fn) const = 0;
  // As Scan, in reverse key order (the last key first), so that the newest
  // of keys that sort by age is read without reading the rest.
  virtual absl::Status ScanReverse(absl::string_view prefix, const ScanFn& fn) const = 0;
};

// Opens (creating if needed) a RocksDB database in `dir`. Fails with a message
// naming the directory, e.g. when another controller holds its lock.
absl::StatusOr<std::unique_ptr<KvStore>> OpenRocksDbStore(const std::string& dir);

}  // namespace andon::controller
