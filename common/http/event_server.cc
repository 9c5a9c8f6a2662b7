#include "common/http/event_server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/host_port.h"
#include "common/log.h"

namespace andon::http {
namespace {

constexpr uint64_t kListenId = 0;
constexpr uint64_t kWakeId = 1;
constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr absl::Duration kSweepEvery = absl::Milliseconds(250);
constexpr absl::Duration kAcceptPause = absl::Milliseconds(100);
// After an answer that closes: how long, and how much, to read and discard
// what the client still sends before closing.
constexpr absl::Duration kLinger = absl::Seconds(2);
constexpr size_t kLingerBytes = 256 << 10;

std::string PeerAddress(const sockaddr_storage& addr) {
  char text[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
  } else if (addr.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
  }
  return text;
}

}  // namespace

// Answers travel from whatever thread a handler finishes on to the loop.
struct EventServer::Mailbox {
  struct Answer {
    uint64_t conn_id;
    int status;
    std::string bytes;
    bool close;
  };

  void Post(Answer answer) {
    absl::MutexLock lock(&mu);
    if (closed) return;
    answers.push_back(std::move(answer));
    uint64_t one = 1;
    (void)!::write(wake_fd, &one, sizeof(one));
  }

  // Runs `work` on the server's pool; when the pool is full, here (it must
  // run: it holds an answer); once the server stopped, not at all.
  void Run(std::function<void()> work) {
    {
      absl::MutexLock lock(&mu);
      if (closed || pool == nullptr) return;
      if (pool->TrySubmit(work)) return;
    }
    work();
  }

  absl::Mutex mu;
  std::vector<Answer> answers ABSL_GUARDED_BY(mu);
  bool closed ABSL_GUARDED_BY(mu) = false;
  WorkPool* pool ABSL_GUARDED_BY(mu) = nullptr;
  int wake_fd = -1;  // owned by the server; not used once closed
};

struct EventServer::Conn {
  enum Phase { kReading, kHandling, kWriting, kLingering };
  UniqueFd fd;
  uint64_t id = 0;
  std::string remote;
  std::string in;
  size_t in_offset = 0;  // bytes of `in` already consumed
  size_t discarded = 0;  // while lingering
  std::string out;
  size_t out_offset = 0;
  Phase phase = kReading;
  uint32_t interest = 0;
  bool in_request = false;  // some bytes of the next request are in
  bool sent_continue = false;
  bool peer_closed = false;
  bool close_after_write = false;
  absl::Time deadline = absl::InfiniteFuture();
};

EventServer::EventServer(const Router* router, ServerOptions options)
    : router_(router), options_(std::move(options)), mailbox_(std::make_shared<Mailbox>()) {}

EventServer::~EventServer() { Stop(); }

absl::Status EventServer::Start(absl::string_view address) {
  std::string host;
  int port = 0;
  if (absl::Status s = SplitHostPort(address, &host, &port); !s.ok()) return s;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port_text = std::to_string(port);
  if (int rc =
          getaddrinfo(host.empty() ? nullptr : host.c_str(), port_text.c_str(), &hints, &found);
      rc != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot resolve HTTP listen address ", address, ": ", gai_strerror(rc)));
  }
  std::string why = "no address";
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    UniqueFd fd(::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd.valid()) continue;
    // SO_REUSEADDR only (no SO_REUSEPORT): a second daemon on the same port
    // fails to start instead of silently sharing its traffic.
    int yes = 1;
    setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    if (::bind(fd.get(), a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd.get(), 1024) != 0) {
      why = std::strerror(errno);
      continue;
    }
    listen_fd_ = std::move(fd);
    break;
  }
  freeaddrinfo(found);
  if (!listen_fd_.valid()) {
    return absl::UnavailableError(absl::StrCat("cannot listen for HTTP on ", address, ": ", why,
                                               " (address in use or not local?)"));
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof(bound);
  getsockname(listen_fd_.get(), reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);

  epoll_fd_.reset(epoll_create1(EPOLL_CLOEXEC));
  wake_fd_.reset(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!epoll_fd_.valid() || !wake_fd_.valid()) {
    return absl::InternalError(
        absl::StrCat("cannot create epoll or eventfd: ", std::strerror(errno)));
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kListenId;
  epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, listen_fd_.get(), &ev);
  ev.data.u64 = kWakeId;
  epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, wake_fd_.get(), &ev);
  mailbox_->wake_fd = wake_fd_.get();
  pool_ = std::make_unique<WorkPool>("http", options_.worker_threads, options_.max_queued);
  {
    absl::MutexLock lock(&mailbox_->mu);
    mailbox_->pool = pool_.get();
  }
  thread_ = std::thread([this] { Loop(); });
  return absl::OkStatus();
}

void EventServer::Stop() {
  if (!thread_.joinable()) return;
  stopping_ = true;
  uint64_t one = 1;
  (void)!::write(wake_fd_.get(), &one, sizeof(one));
  thread_.join();
  {
    absl::MutexLock lock(&mailbox_->mu);
    mailbox_->closed = true;
    mailbox_->pool = nullptr;
    mailbox_->answers.clear();
  }
  conns_.clear();
  counters_.open = 0;
  listen_fd_.reset();
  // Requests not yet started are dropped, not run: their clients are gone
  // unanswered, and a change (a label, a probe) must not apply behind them.
  pool_->DiscardQueued();
  pool_.reset();
}

ServerStats EventServer::stats() const {
  ServerStats s;
  s.connections_accepted = counters_.accepted;
  s.connections_refused = counters_.refused;
  s.connections_open = counters_.open;
  s.requests = counters_.requests;
  s.requests_refused_busy = counters_.busy;
  s.requests_malformed = counters_.malformed;
  s.timeouts = counters_.timeouts;
  s.accept_errors = counters_.accept_errors;
  return s;
}

void EventServer::Loop() {
  std::vector<epoll_event> events(256);
  absl::Time next_sweep = absl::Now() + kSweepEvery;
  while (!stopping_) {
    const int n = epoll_wait(epoll_fd_.get(), events.data(), static_cast<int>(events.size()),
                             static_cast<int>(absl::ToInt64Milliseconds(kSweepEvery)));
    if (n < 0 && errno != EINTR) {
      ANDON_LOG(ERROR) << "HTTP server: epoll_wait failed: " << std::strerror(errno);
      return;
    }
    for (int i = 0; i < n; ++i) {
      const uint64_t id = events[i].data.u64;
      if (id == kListenId) {
        AcceptAll();
      } else if (id == kWakeId) {
        uint64_t count;
        (void)!::read(wake_fd_.get(), &count, sizeof(count));
        TakeAnswers();
      } else if (auto it = conns_.find(id); it != conns_.end()) {
        OnEvents(*it->second, events[i].events);
      }
    }
    if (absl::Now() >= next_sweep) {
      Sweep();
      next_sweep = absl::Now() + kSweepEvery;
    }
    absl::MutexLock lock(&stats_mu_);
    stats_changed_.SignalAll();
  }
}

bool EventServer::WaitForStats(const std::function<bool(const ServerStats&)>& done,
                               absl::Duration timeout) const {
  const absl::Time deadline = absl::Now() + timeout;
  absl::MutexLock lock(&stats_mu_);
  while (!done(stats())) {
    if (stats_changed_.WaitWithDeadline(&stats_mu_, deadline)) return done(stats());
  }
  return true;
}

void EventServer::AcceptAll() {
  while (true) {
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    int fd = accept4(listen_fd_.get(), reinterpret_cast<sockaddr*>(&addr), &len,
                     SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (errno == EINTR || errno == ECONNABORTED) continue;
      // Out of descriptors or memory: stop polling the listener for a moment
      // (it would wake the loop at once, again and again), then resume.
      ++counters_.accept_errors;
      const absl::Time now = absl::Now();
      if (now - last_accept_error_log_ > absl::Seconds(10)) {
        ANDON_LOG(WARNING) << "HTTP server cannot accept a connection: " << std::strerror(errno)
                           << "; pausing accepts for " << kAcceptPause;
        last_accept_error_log_ = now;
      }
      epoll_event ev{};
      ev.data.u64 = kListenId;
      epoll_ctl(epoll_fd_.get(), EPOLL_CTL_MOD, listen_fd_.get(), &ev);
      accept_paused_ = true;
      accept_resume_ = now + kAcceptPause;
      return;
    }
    UniqueFd owned(fd);
    if (conns_.size() >= options_.max_connections) {
      ++counters_.refused;
      Response busy;
      busy.status = 503;
      busy.headers.emplace_back("Retry-After", "1");
      busy.body =
          absl::StrCat("too many connections (", options_.max_connections, "); retry shortly\n");
      const std::string bytes = SerializeResponse(busy, false, false);
      (void)!::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      continue;
    }
    int yes = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
    auto conn = std::make_unique<Conn>();
    conn->fd = std::move(owned);
    conn->id = next_id_++;
    conn->remote = PeerAddress(addr);
    conn->deadline = absl::Now() + options_.idle_timeout;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.u64 = conn->id;
    if (epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) continue;
    conn->interest = ev.events;
    ++counters_.accepted;
    ++counters_.open;
    conns_.emplace(conn->id, std::move(conn));
  }
}

void EventServer::OnEvents(Conn& conn, uint32_t events) {
  if (events & (EPOLLERR | EPOLLHUP)) return Close(conn);
  if (conn.phase == Conn::kLingering) return Discard(conn);
  if (conn.phase == Conn::kReading && (events & (EPOLLIN | EPOLLRDHUP))) return ReadInput(conn);
  if (events & EPOLLRDHUP) {
    // The client shut its side while its request is handled (`nc -N` does):
    // it may still read, so answer, then close. Stop watching, or the
    // level-triggered event would repeat; a client really gone shows as an
    // error or a failed write. The handler's work is bounded by
    // max_in_flight and handler_timeout either way. Requests it pipelined
    // before are answered too; the connection closes when none is left.
    conn.peer_closed = true;
    SetInterest(conn, conn.phase == Conn::kWriting ? EPOLLOUT : 0);
  }
  if (conn.phase == Conn::kWriting && (events & EPOLLOUT)) Flush(conn);
}

void EventServer::ReadInput(Conn& conn) {
  const size_t most = options_.limits.max_header_bytes + options_.limits.max_body_bytes + 4096;
  char buffer[64 << 10];
  while (conn.in.size() - conn.in_offset <= most) {
    ssize_t n = ::read(conn.fd.get(), buffer, sizeof(buffer));
    if (n > 0) {
      conn.in.append(buffer, static_cast<size_t>(n));
      continue;
    }
    if (n == 0) {
      conn.peer_closed = true;
      break;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    return Close(conn);
  }
  // Acknowledge at once rather than after the delayed-ACK timer: a client
  // with Nagle on that writes headers and body apart otherwise waits 40 ms
  // for that ACK before sending the body. The kernel clears it again, so it
  // is set after every read.
  int one = 1;
  setsockopt(conn.fd.get(), IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
  ProcessInput(conn);
}

void EventServer::ProcessInput(Conn& conn) {
  if (conn.in_offset == conn.in.size()) {
    conn.in.clear();
    conn.in_offset = 0;
    if (conn.in.capacity() > (256 << 10)) conn.in.shrink_to_fit();
    if (conn.peer_closed) return Close(conn);
    return;
  }
  // Consumed bytes are dropped now and then, not per request: a client that
  // pipelines thousands of requests must not cost a copy of its buffer each.
  if (conn.in_offset > (64 << 10) && conn.in_offset * 2 > conn.in.size()) {
    conn.in.erase(0, conn.in_offset);
    conn.in_offset = 0;
  }
  Request request;
  request.remote_addr = conn.remote;
  const absl::string_view unread = absl::string_view(conn.in).substr(conn.in_offset);
  ParseResult parsed = ParseRequest(unread, options_.limits, &request);
  switch (parsed.state) {
    case ParseResult::kNeedMore:
      if (conn.peer_closed) return Close(conn);  // it will never be complete
      if (!conn.in_request) {
        conn.in_request = true;
        conn.deadline = absl::Now() + options_.request_timeout;
      }
      if (parsed.expects_continue && !conn.sent_continue) {
        conn.sent_continue = true;
        ssize_t n = ::send(conn.fd.get(), kContinue, sizeof(kContinue) - 1, MSG_NOSIGNAL);
        if (n != static_cast<ssize_t>(sizeof(kContinue) - 1)) return Close(conn);
      }
      return;
    case ParseResult::kError: {
      ++counters_.malformed;
      Response response;
      response.status = parsed.status;
      response.body = parsed.message + "\n";
      return SendNow(conn, response, /*close=*/true);
    }
    case ParseResult::kDone:
      conn.in_offset += parsed.consumed;
      return StartHandling(conn, std::move(request));
  }
}

void EventServer::StartHandling(Conn& conn, Request request) {
  ++counters_.requests;
  conn.in_request = false;
  conn.sent_continue = false;
  if (in_flight_ >= options_.max_in_flight) {
    ++counters_.busy;
    Response busy;
    busy.status = 503;
    busy.headers.emplace_back("Retry-After", "1");
    busy.body =
        absl::StrCat("the server is busy (", in_flight_, " requests in progress); retry shortly\n");
    return SendNow(conn, busy, /*close=*/false);
  }
  ++in_flight_;  // every dispatched request's answer comes back through the mailbox
  conn.phase = Conn::kHandling;
  conn.deadline = absl::Now() + options_.handler_timeout;
  SetInterest(conn, conn.peer_closed ? 0 : EPOLLRDHUP);
  // A client that shut its side is still answered whatever it pipelined;
  // the connection closes once no whole request is left (ProcessInput).
  const bool keep_alive = request.keep_alive && !stopping_;
  const bool head_only = request.method == "HEAD";
  Responder responder(
      [mailbox = mailbox_, id = conn.id, keep_alive, head_only](Response r) {
        mailbox->Post({id, r.status, SerializeResponse(r, keep_alive, head_only), !keep_alive});
      },
      [mailbox = mailbox_](std::function<void()> work) { mailbox->Run(std::move(work)); });
  const bool queued =
      pool_->TrySubmit([router = router_, request = std::move(request), responder]() mutable {
        router->Dispatch(std::move(request), responder);
      });
  if (!queued) {
    ++counters_.busy;
    Response busy;
    busy.status = 503;
    busy.headers.emplace_back("Retry-After", "1");
    busy.body = "the server is busy (every worker taken and its queue full); retry shortly\n";
    responder.Send(std::move(busy));
  }
}

void EventServer::SendNow(Conn& conn, const Response& response, bool close) {
  if (options_.on_response) options_.on_response(response.status);
  conn.out = SerializeResponse(response, !close, false);
  conn.out_offset = 0;
  conn.close_after_write = close;
  conn.phase = Conn::kWriting;
  conn.deadline = absl::Now() + options_.request_timeout;
  Flush(conn);
}

void EventServer::TakeAnswers() {
  std::vector<Mailbox::Answer> answers;
  {
    absl::MutexLock lock(&mailbox_->mu);
    answers.swap(mailbox_->answers);
  }
  for (Mailbox::Answer& answer : answers) {
    --in_flight_;
    if (options_.on_response) options_.on_response(answer.status);
    auto it = conns_.find(answer.conn_id);
    // The client went away meanwhile, or was answered 504 already.
    if (it == conns_.end() || it->second->phase != Conn::kHandling) continue;
    Conn& conn = *it->second;
    conn.out = std::move(answer.bytes);
    conn.out_offset = 0;
    conn.close_after_write = conn.close_after_write || answer.close;
    conn.phase = Conn::kWriting;
    conn.deadline = absl::Now() + options_.request_timeout;
    Flush(conn);
  }
}

void EventServer::Flush(Conn& conn) {
  while (conn.out_offset < conn.out.size()) {
    ssize_t n = ::send(conn.fd.get(), conn.out.data() + conn.out_offset,
                       conn.out.size() - conn.out_offset, MSG_NOSIGNAL);
    if (n > 0) {
      conn.out_offset += static_cast<size_t>(n);
      conn.deadline = absl::Now() + options_.request_timeout;  // a slow reader that reads
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      SetInterest(conn, EPOLLOUT);
      return;
    }
    return Close(conn);
  }
  if (conn.close_after_write) return Linger(conn);
  conn.out.clear();
  conn.out.shrink_to_fit();
  conn.phase = Conn::kReading;
  conn.deadline = absl::Now() + options_.idle_timeout;
  SetInterest(conn, EPOLLIN | EPOLLRDHUP);
  ProcessInput(conn);  // a pipelined request may be waiting already
}

void EventServer::Linger(Conn& conn) {
  if (conn.peer_closed) return Close(conn);
  // Closing with unread bytes in the socket would send a reset, which can
  // destroy the answer before the client reads it: send FIN, discard what
  // still comes for a moment, then close.
  ::shutdown(conn.fd.get(), SHUT_WR);
  conn.phase = Conn::kLingering;
  conn.out.clear();
  conn.in.clear();
  conn.in_offset = 0;
  conn.deadline = absl::Now() + kLinger;
  SetInterest(conn, EPOLLIN | EPOLLRDHUP);
  Discard(conn);
}

void EventServer::Discard(Conn& conn) {
  char buffer[16 << 10];
  while (true) {
    ssize_t n = ::read(conn.fd.get(), buffer, sizeof(buffer));
    if (n > 0) {
      conn.discarded += static_cast<size_t>(n);
      if (conn.discarded > kLingerBytes) return Close(conn);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    return Close(conn);  // EOF or error: the client has it all
  }
}

void EventServer::SetInterest(Conn& conn, uint32_t events) {
  if (conn.interest == events) return;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = conn.id;
  epoll_ctl(epoll_fd_.get(), EPOLL_CTL_MOD, conn.fd.get(), &ev);
  conn.interest = events;
}

void EventServer::Close(Conn& conn) {
  --counters_.open;
  conns_.erase(conn.id);  // closes the descriptor, which leaves the epoll set
}

void EventServer::Sweep() {
  const absl::Time now = absl::Now();
  if (accept_paused_ && now >= accept_resume_) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kListenId;
    epoll_ctl(epoll_fd_.get(), EPOLL_CTL_MOD, listen_fd_.get(), &ev);
    accept_paused_ = false;
  }
  std::vector<uint64_t> expired;
  for (const auto& [id, conn] : conns_) {
    if (conn->deadline <= now) expired.push_back(id);
  }
  for (uint64_t id : expired) {
    auto it = conns_.find(id);
    if (it == conns_.end()) continue;
    Conn& conn = *it->second;
    if (conn.phase == Conn::kReading && conn.in_request) {
      ++counters_.timeouts;
      Response response;
      response.status = 408;
      response.body = absl::StrCat("the request was not complete within ",
                                   absl::FormatDuration(options_.request_timeout), "\n");
      SendNow(conn, response, /*close=*/true);
    } else if (conn.phase == Conn::kHandling) {
      ++counters_.timeouts;
      Response response;
      response.status = 504;
      response.body =
          absl::StrCat("no answer within ", absl::FormatDuration(options_.handler_timeout), "\n");
      SendNow(conn, response, /*close=*/true);
    } else {
      if (conn.phase == Conn::kWriting) ++counters_.timeouts;
      Close(conn);
    }
  }
}

}  // namespace andon::http
