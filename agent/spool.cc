#include "agent/spool.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/hash.h"
#include "common/log.h"

namespace andon::agent {
namespace {

constexpr size_t kHeader = 12;  // length (4) + FNV-1a (8)

void PutLe(char* out, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

uint64_t GetLe(const char* in, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i)
    v |= static_cast<uint64_t>(static_cast<unsigned char>(in[i])) << (8 * i);
  return v;
}

// Parses a segment's records; stops at the first torn or corrupt one.
std::vector<v1::IngestBatch> ParseSegment(const std::string& data) {
  std::vector<v1::IngestBatch> out;
  size_t pos = 0;
  while (pos + kHeader <= data.size()) {
    const uint64_t len = GetLe(data.data() + pos, 4);
    const uint64_t sum = GetLe(data.data() + pos + 4, 8);
    if (pos + kHeader + len > data.size()) break;
    absl::string_view body(data.data() + pos + kHeader, len);
    if (Fnv1a(kFnv1aOffset, body) != sum) break;
    v1::IngestBatch b;
    if (!b.ParseFromArray(body.data(), static_cast<int>(body.size()))) break;
    out.push_back(std::move(b));
    pos += kHeader + len;
  }
  return out;
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::UnavailableError(absl::StrCat("cannot read spool segment ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Spool>> Spool::Open(Options options) {
  std::error_code ec;
  std::filesystem::create_directories(options.dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot create the spool directory ", options.dir, ": ", ec.message(),
        "; give --spool_dir a writable directory (or empty to keep batches in memory only)"));
  }
  std::unique_ptr<Spool> spool(new Spool(std::move(options)));
  if (absl::Status s = spool->Load(); !s.ok()) return s;
  return spool;
}

Spool::~Spool() {
  absl::MutexLock lock(&mu_);
  if (tail_fd_ >= 0) ::close(tail_fd_);
}

absl::Status Spool::Load() {
  absl::MutexLock lock(&mu_);
  std::vector<std::pair<uint64_t, std::string>> files;
  for (const auto& entry : std::filesystem::directory_iterator(options_.dir)) {
    const std::string name = entry.path().filename().string();
    uint64_t first = 0;
    if (name.size() > 4 && name.substr(name.size() - 4) == ".seg" &&
        absl::SimpleAtoi(name.substr(0, name.size() - 4), &first)) {
      files.push_back({first, entry.path().string()});
    }
  }
  std::sort(files.begin(), files.end());
  for (const auto& [first, path] : files) {
    absl::StatusOr<std::string> data = ReadFile(path);
    if (!data.ok()) return data.status();
    std::vector<v1::IngestBatch> batches = ParseSegment(*data);
    if (batches.empty()) {
      std::filesystem::remove(path);
      continue;
    }
    Segment s;
    s.path = path;
    s.first = batches.front().sequence();
    s.last = batches.back().sequence();
    s.bytes = data->size();
    for (const auto& b : batches) s.sequences.push_back(b.sequence());
    bytes_ += s.bytes;
    segments_.push_back(std::move(s));
  }
  if (!segments_.empty()) {
    ANDON_LOG(INFO) << "spool " << options_.dir << ": " << segments_.size() << " segments, "
                    << bytes_ << " bytes of unacknowledged batches from an earlier run (sequences "
                    << segments_.front().first << ".." << segments_.back().last << ")";
  }
  return absl::OkStatus();
}

absl::Status Spool::OpenTail(uint64_t first_sequence) {
  if (tail_fd_ >= 0) ::close(tail_fd_);
  Segment s;
  s.path = absl::StrFormat("%s/%020d.seg", options_.dir, first_sequence);
  tail_fd_ = ::open(s.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (tail_fd_ < 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot write spool segment ", s.path, ": ", std::strerror(errno)));
  }
  segments_.push_back(std::move(s));
  return absl::OkStatus();
}

size_t Spool::UnackedIn(const Segment& s) const {
  return static_cast<size_t>(std::count_if(s.sequences.begin(), s.sequences.end(),
                                           [&](uint64_t q) { return q > acked_through_; }));
}

void Spool::DropOldest(uint64_t* dropped, uint64_t* through) {
  Segment& s = segments_.front();
  *dropped += UnackedIn(s);
  *through = std::max(*through, s.last);
  bytes_ -= s.bytes;
  std::filesystem::remove(s.path);
  segments_.pop_front();
}

absl::StatusOr<uint64_t> Spool::Append(const v1::IngestBatch& batch, uint64_t* dropped) {
  *dropped = 0;
  std::string body = batch.SerializeAsString();
  std::string record(kHeader, '\0');
  PutLe(record.data(), body.size(), 4);
  PutLe(record.data() + 4, Fnv1a(kFnv1aOffset, body), 8);
  record += body;
  absl::MutexLock lock(&mu_);
  // A new segment for the first batch, after a reopen (never append to a
  // segment an earlier run may have torn), or when the tail is full.
  if (tail_fd_ < 0 || segments_.empty() || segments_.back().bytes >= options_.segment_bytes) {
    if (absl::Status s = OpenTail(batch.sequence()); !s.ok()) return s;
  }
  uint64_t through = 0;
  // Keep the bound, never dropping the tail being written.
  while (segments_.size() > 1 && bytes_ + record.size() > options_.max_bytes) {
    DropOldest(dropped, &through);
  }
  if (::write(tail_fd_, record.data(), record.size()) != static_cast<ssize_t>(record.size())) {
    return absl::UnavailableError(
        absl::StrCat("writing spool segment ", segments_.back().path, ": ", std::strerror(errno)));
  }
  Segment& tail = segments_.back();
  if (tail.sequences.empty()) tail.first = batch.sequence();
  tail.last = batch.sequence();
  tail.sequences.push_back(batch.sequence());
  tail.bytes += record.size();
  bytes_ += record.size();
  return through;
}

absl::StatusOr<std::vector<v1::IngestBatch>> Spool::ReadAfter(uint64_t after, size_t max) const {
  std::vector<std::string> paths;
  {
    absl::MutexLock lock(&mu_);
    for (const Segment& s : segments_) {
      if (s.last > after) paths.push_back(s.path);
    }
  }
  std::vector<v1::IngestBatch> out;
  for (const std::string& path : paths) {
    absl::StatusOr<std::string> data = ReadFile(path);
    if (!data.ok()) continue;  // dropped meanwhile
    for (v1::IngestBatch& b : ParseSegment(*data)) {
      if (b.sequence() <= after) continue;
      out.push_back(std::move(b));
      if (out.size() >= max) return out;
    }
  }
  return out;
}

void Spool::Acknowledge(uint64_t sequence) {
  absl::MutexLock lock(&mu_);
  acked_through_ = std::max(acked_through_, sequence);
  while (!segments_.empty() && segments_.front().last <= acked_through_ &&
         !segments_.front().sequences.empty()) {
    const bool tail = segments_.size() == 1;
    bytes_ -= segments_.front().bytes;
    std::filesystem::remove(segments_.front().path);
    segments_.pop_front();
    if (tail && tail_fd_ >= 0) {
      ::close(tail_fd_);
      tail_fd_ = -1;
    }
  }
}

uint64_t Spool::last_sequence() const {
  absl::MutexLock lock(&mu_);
  return segments_.empty() ? 0 : segments_.back().last;
}

uint64_t Spool::bytes() const {
  absl::MutexLock lock(&mu_);
  return bytes_;
}

size_t Spool::unacknowledged() const {
  absl::MutexLock lock(&mu_);
  size_t n = 0;
  for (const Segment& s : segments_) n += UnackedIn(s);
  return n;
}

}  // namespace andon::agent
