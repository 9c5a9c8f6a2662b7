#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/http/request_parser.h"
#include "common/http/router.h"
#include "common/unique_fd.h"
#include "common/work_pool.h"

namespace andon::http {

struct ServerOptions {
  // Threads that run handlers, and how many requests may wait for one; a
  // request beyond that is answered 503 at once.
  size_t worker_threads = 2;
  size_t max_queued = 256;
  // Connections beyond this are answered 503 and closed.
  size_t max_connections = 1024;
  // Time to receive a whole request once its first byte came, and to send
  // an answer; a client slower than that is cut off (408 when reading).
  absl::Duration request_timeout = absl::Seconds(30);
  // A kept-alive connection with no request in progress is closed after this.
  absl::Duration idle_timeout = absl::Seconds(60);
  // A handler that has not answered after this gets its client a 504 (its
  // own deadlines should come first).
  absl::Duration handler_timeout = absl::Seconds(60);
  // Requests handed to handlers and not yet answered, over all connections
  // (a client that leaves does not end its handler's work); more get 503.
  size_t max_in_flight = 256;
  ParseLimits limits;
  // Called on the server's loop thread with the status of every answer.
  std::function<void(int status)> on_response;
};

// Totals since start, for /metrics.
struct ServerStats {
  uint64_t connections_accepted = 0;
  uint64_t connections_refused = 0;  // over max_connections
  uint64_t connections_open = 0;
  uint64_t requests = 0;
  uint64_t requests_refused_busy = 0;  // every worker busy and the queue full
  uint64_t requests_malformed = 0;
  uint64_t timeouts = 0;       // reading, handling (504) or writing too slowly
  uint64_t accept_errors = 0;  // e.g. out of file descriptors
};

// An HTTP/1.1 server on one event-loop thread (epoll): it reads and parses
// requests, hands each complete one to a small work pool that runs the
// router, and writes answers when they are ready. An asynchronous handler
// returns at once and answers later through its Responder, so a slow
// fan-out query holds no thread while it waits. Keep-alive and pipelining
// are served in order, one request per connection at a time. Bounded
// everywhere: header and body sizes, connections, queued and in-flight
// requests, and timeouts for slow or idle clients and slow handlers. A
// connection closed after an error lingers briefly, reading what the client
// still sends, so that its answer is not lost to a reset. `router` must outlive the server.
class EventServer {
 public:
  EventServer(const Router* router, ServerOptions options);
  ~EventServer();
  EventServer(const EventServer&) = delete;
  EventServer& operator=(const EventServer&) = delete;

  // Listens on "host:port" (port 0 picks a free one) and starts serving.
  absl::Status Start(absl::string_view address);
  int port() const { return port_; }
  // Stops accepting, closes every connection and joins; requests not yet
  // handed to a handler are dropped unrun, answers that arrive later too.
  void Stop();

  ServerStats stats() const;
  // Blocks until `done` holds for stats(), checked each time the server's
  // loop has handled events, or until `timeout` passes; returns whether it
  // holds (tests, tools).
  bool WaitForStats(const std::function<bool(const ServerStats&)>& done,
                    absl::Duration timeout) const;

 private:
  struct Conn;
  struct Mailbox;

  void Loop();
  void AcceptAll();
  void OnEvents(Conn& conn, uint32_t events);
  void ReadInput(Conn& conn);
  void ProcessInput(Conn& conn);
  void StartHandling(Conn& conn, Request request);
  void SendNow(Conn& conn, const Response& response, bool close);
  void Linger(Conn& conn);
  void Discard(Conn& conn);
  void TakeAnswers();
  void Flush(Conn& conn);
  void SetInterest(Conn& conn, uint32_t events);
  void Close(Conn& conn);
  void Sweep();

  const Router* const router_;
  const ServerOptions options_;
  std::unique_ptr<WorkPool> pool_;
  std::shared_ptr<Mailbox> mailbox_;
  UniqueFd listen_fd_;
  UniqueFd epoll_fd_;
  UniqueFd wake_fd_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> stopping_{false};

  // Loop thread only.
  absl::flat_hash_map<uint64_t, std::unique_ptr<Conn>> conns_;
  uint64_t next_id_ = 2;
  size_t in_flight_ = 0;
  bool accept_paused_ = false;
  absl::Time accept_resume_ = absl::InfinitePast();
  absl::Time last_accept_error_log_ = absl::InfinitePast();

  struct Counters {
    std::atomic<uint64_t> accepted{0}, refused{0}, open{0}, requests{0}, busy{0}, malformed{0},
        timeouts{0}, accept_errors{0};
  };
  Counters counters_;
  // Signalled after each turn of the loop, for WaitForStats.
  mutable absl::Mutex stats_mu_;
  mutable absl::CondVar stats_changed_;
};

}  // namespace andon::http
