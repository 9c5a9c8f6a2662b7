#include "common/http/event_server.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <memory>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/unique_fd.h"
#include "gtest/gtest.h"

namespace andon::http {
namespace {

// A bare TCP client, so tests control every byte and see every close.
class RawClient {
 public:
  explicit RawClient(int port) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  bool connected() const { return connected_; }

  void Send(const std::string& bytes) {
    ASSERT_EQ(::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }

  // Reads until `n` bytes are buffered, the peer closes, or 20 s pass
  // (a bound against a hung test, not a measured time).
  bool Fill(size_t n) {
    const absl::Time give_up = absl::Now() + absl::Seconds(20);
    while (buffer_.size() < n) {
      pollfd p{fd_.get(), POLLIN, 0};
      const int left = static_cast<int>(absl::ToInt64Milliseconds(give_up - absl::Now()));
      if (left <= 0 || ::poll(&p, 1, left) <= 0) return false;
      char chunk[4096];
      ssize_t got = ::recv(fd_.get(), chunk, sizeof(chunk), 0);
      if (got <= 0) {
        closed_ = true;
        return false;
      }
      buffer_.append(chunk, static_cast<size_t>(got));
    }
    return true;
  }

  struct Reply {
    int status = 0;
    std::string head;
    std::string body;
  };

  // The next whole response (status 0 when none came); `head_only` for the
  // answer to a HEAD, whose Content-Length has no body behind it.
  Reply Read(bool head_only = false) {
    Reply reply;
    size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill(buffer_.size() + 1)) return reply;
    }
    reply.head = buffer_.substr(0, end);
    absl::SimpleAtoi(reply.head.substr(9, 3), &reply.status);
    size_t length = 0;
    size_t at = reply.head.find("Content-Length: ");
    if (at != std::string::npos) {
      absl::SimpleAtoi(reply.head.substr(at + 16, reply.head.find("\r\n", at) - at - 16), &length);
    }
    if (reply.status == 100 || head_only) length = 0;
    if (!Fill(end + 4 + length)) return Reply{};
    reply.body = buffer_.substr(end + 4, length);
    buffer_.erase(0, end + 4 + length);
    return reply;
  }

  // True once the server has closed the connection (and nothing more came).
  bool WaitClosed() {
    while (!closed_) {
      if (!Fill(buffer_.size() + 1) && !closed_) return false;
    }
    return true;
  }

  void Close() { fd_.reset(); }
  void ShutdownWrite() { ::shutdown(fd_.get(), SHUT_WR); }

 private:
  UniqueFd fd_;
  bool connected_ = false;
  bool closed_ = false;
  std::string buffer_;
};

// Requests parked by the "/park" route until the test answers them.
class Parked {
 public:
  void Add(Responder r) {
    absl::MutexLock lock(&mu_);
    waiting_.push_back(std::move(r));
  }
  bool WaitFor(size_t n) {
    absl::MutexLock lock(&mu_);
    auto enough = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return waiting_.size() >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(20));
  }
  // Answers all from a thread of their own, as a gRPC callback would.
  void AnswerAll() {
    std::vector<Responder> all;
    {
      absl::MutexLock lock(&mu_);
      all.swap(waiting_);
    }
    std::thread([all = std::move(all)] {
      for (size_t i = 0; i < all.size(); ++i) {
        Response r;
        r.body = "parked answer";
        all[i].Send(std::move(r));
      }
    }).join();
  }

 private:
  absl::Mutex mu_;
  std::vector<Responder> waiting_ ABSL_GUARDED_BY(mu_);
};

// Waits until `done` holds for the server's stats (an event, not a sleep).
bool WaitStats(const EventServer& server, std::function<bool(const ServerStats&)> done) {
  return server.WaitForStats(done, absl::Seconds(20));
}

class EventServerTest : public ::testing::Test {
 protected:
  void Start(ServerOptions options = {}) {
    router_.Get("/hello", [](const Request& q, Response& r) {
      r.body = absl::StrCat("hello ", q.Param("name"), " from ", q.remote_addr);
    });
    router_.Post("/echo", [](const Request& q, Response& r) { r.body = q.body; });
    router_.Get("/block", [this](const Request&, Response& r) {
      entered_.Notify();
      release_.WaitForNotification();
      r.body = "unblocked";
    });
    router_.Async("GET", "/park", [this](Request, Responder r) { parked_.Add(std::move(r)); });
    server_ = std::make_unique<EventServer>(&router_, std::move(options));
    ASSERT_TRUE(server_->Start("127.0.0.1:0").ok());
  }
  void TearDown() override {
    if (!release_.HasBeenNotified()) release_.Notify();
    if (server_) server_->Stop();
  }

  Router router_;
  Parked parked_;
  absl::Notification entered_, release_;
  std::unique_ptr<EventServer> server_;
};

TEST_F(EventServerTest, ServesRequestsFromARealClient) {
  Start();
  httplib::Client client("127.0.0.1", server_->port());
  auto got = client.Get("/hello?name=a%20b");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, 200);
  EXPECT_EQ(got->body, "hello a b from 127.0.0.1");
  std::string big(900 << 10, 'x');  // many reads, within the 1 MiB default
  auto echoed = client.Post("/echo", big, "application/octet-stream");
  ASSERT_TRUE(echoed);
  EXPECT_EQ(echoed->body.size(), big.size());
  EXPECT_EQ(echoed->body, big);
  EXPECT_EQ(client.Get("/nothing")->status, 404);
}

TEST_F(EventServerTest, AnswersPipelinedRequestsInOrderOnOneConnection) {
  Start();
  RawClient c(server_->port());
  ASSERT_TRUE(c.connected());
  c.Send(
      "GET /hello?name=1 HTTP/1.1\r\n\r\nPOST /echo HTTP/1.1\r\nContent-Length: 3\r\n\r\n"
      "abcGET /hello?name=3 HTTP/1.1\r\n\r\n");
  EXPECT_EQ(c.Read().body, "hello 1 from 127.0.0.1");
  EXPECT_EQ(c.Read().body, "abc");
  EXPECT_EQ(c.Read().body, "hello 3 from 127.0.0.1");
  EXPECT_EQ(server_->stats().connections_accepted, 1u);
}

// The point of the design: requests that wait on something slow (a fan-out
// query) hold no thread, so one worker still serves everyone else.
TEST_F(EventServerTest, ParkedAsynchronousRequestsHoldNoWorker) {
  ServerOptions options;
  options.worker_threads = 1;
  Start(options);
  std::vector<std::unique_ptr<RawClient>> slow;
  for (int i = 0; i < 16; ++i) {
    slow.push_back(std::make_unique<RawClient>(server_->port()));
    slow.back()->Send("GET /park HTTP/1.1\r\n\r\n");
  }
  ASSERT_TRUE(parked_.WaitFor(16));
  RawClient fast(server_->port());
  fast.Send("GET /hello?name=fast HTTP/1.1\r\n\r\n");
  RawClient::Reply reply = fast.Read();
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "hello fast from 127.0.0.1");
  parked_.AnswerAll();
  for (auto& c : slow) {
    RawClient::Reply r = c->Read();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "parked answer");
  }
}

TEST_F(EventServerTest, AnAnswerForAClientThatLeftIsDroppedAndServingGoesOn) {
  Start();
  {
    RawClient gone(server_->port());
    gone.Send("GET /park HTTP/1.1\r\n\r\n");
    ASSERT_TRUE(parked_.WaitFor(1));
  }
  parked_.AnswerAll();
  ASSERT_TRUE(WaitStats(*server_, [](const ServerStats& s) { return s.connections_open == 0; }));
  RawClient next(server_->port());
  next.Send("GET /hello?name=next HTTP/1.1\r\n\r\n");
  EXPECT_EQ(next.Read().status, 200);
}

// `nc -N` and some health checkers shut their sending side after the
// request: they still get the answer.
TEST_F(EventServerTest, AClientThatHalfClosesStillGetsItsAnswers) {
  Start();
  RawClient c(server_->port());
  c.Send("GET /park HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(parked_.WaitFor(1));
  c.ShutdownWrite();
  ASSERT_TRUE(WaitStats(*server_, [](const ServerStats& s) { return s.requests == 1; }));
  parked_.AnswerAll();
  EXPECT_EQ(c.Read().body, "parked answer");
  EXPECT_TRUE(c.WaitClosed());
  RawClient pipelined(server_->port());
  pipelined.Send("GET /hello?name=1 HTTP/1.1\r\n\r\nGET /hello?name=2 HTTP/1.1\r\n\r\n");
  pipelined.ShutdownWrite();
  EXPECT_EQ(pipelined.Read().body, "hello 1 from 127.0.0.1");
  EXPECT_EQ(pipelined.Read().body, "hello 2 from 127.0.0.1");
  EXPECT_TRUE(pipelined.WaitClosed());
}

TEST_F(EventServerTest, RequestsInFlightAreBoundedAndASilentHandlerTimesOut) {
  ServerOptions options;
  options.max_in_flight = 2;
  options.handler_timeout = absl::Milliseconds(500);
  Start(options);
  RawClient a(server_->port()), b(server_->port()), c(server_->port());
  a.Send("GET /park HTTP/1.1\r\n\r\n");
  b.Send("GET /park HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(parked_.WaitFor(2));
  c.Send("GET /hello HTTP/1.1\r\n\r\n");
  RawClient::Reply busy = c.Read();
  EXPECT_EQ(busy.status, 503);
  EXPECT_NE(busy.body.find("2 requests in progress"), std::string::npos) << busy.body;
  // Nobody answers the parked two: their clients get 504 and a close.
  EXPECT_EQ(a.Read().status, 504);
  EXPECT_EQ(b.Read().status, 504);
  EXPECT_TRUE(a.WaitClosed());
  EXPECT_EQ(server_->stats().timeouts, 2u);
  // Their handlers answer at last: the answers go nowhere, and the slots are
  // free again.
  parked_.AnswerAll();
  ASSERT_TRUE(WaitStats(*server_, [](const ServerStats& s) { return s.connections_open == 1; }));
  c.Send("GET /hello?name=again HTTP/1.1\r\n\r\n");
  EXPECT_EQ(c.Read().status, 200);
}

TEST_F(EventServerTest, AFloodOfEmptyLinesIsRefusedNotSpunOn) {
  ServerOptions options;
  options.limits.max_header_bytes = 1024;
  Start(options);
  RawClient c(server_->port());
  std::string crlfs;
  for (int i = 0; i < 2048; ++i) crlfs += "\r\n";
  c.Send(crlfs);
  EXPECT_EQ(c.Read().status, 431);
  EXPECT_TRUE(c.WaitClosed());
}

TEST_F(EventServerTest, MalformedRequestsGetAClearErrorAndAClose) {
  ServerOptions options;
  options.limits.max_body_bytes = 100;
  Start(options);
  struct Case {
    std::string wire;
    int status;
  };
  for (const Case& c : std::vector<Case>{
           {"NOT HTTP AT ALL\r\n\r\n", 400},
           // The body the client sends anyway is read and dropped, so the
           // answer is not lost to a reset.
           {"POST /echo HTTP/1.1\r\nContent-Length: 1000\r\n\r\n" + std::string(200 << 10, 'b'),
            413},
           {"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501},
           {"GET /hello HTTP/3\r\n\r\n", 505},
           {"GET /hello HTTP/1.1\r\nX: " + std::string(100 << 10, 'a') + "\r\n\r\n", 431},
       }) {
    RawClient client(server_->port());
    client.Send(c.wire);
    RawClient::Reply reply = client.Read();
    EXPECT_EQ(reply.status, c.status) << c.wire.substr(0, 60);
    EXPECT_FALSE(reply.body.empty());
    EXPECT_NE(reply.head.find("Connection: close"), std::string::npos);
    EXPECT_TRUE(client.WaitClosed());
  }
  EXPECT_EQ(server_->stats().requests_malformed, 5u);
}

TEST_F(EventServerTest, ConnectionsOverTheLimitAreRefusedWith503) {
  ServerOptions options;
  options.max_connections = 2;
  Start(options);
  RawClient a(server_->port()), b(server_->port());
  ASSERT_TRUE(WaitStats(*server_, [](const ServerStats& s) { return s.connections_open == 2; }));
  RawClient c(server_->port());
  RawClient::Reply refused = c.Read();
  EXPECT_EQ(refused.status, 503);
  EXPECT_TRUE(c.WaitClosed());
  EXPECT_EQ(server_->stats().connections_refused, 1u);
  a.Send("GET /hello HTTP/1.1\r\n\r\n");
  EXPECT_EQ(a.Read().status, 200);
}

TEST_F(EventServerTest, AFullQueueAnswersBusyInsteadOfGrowing) {
  ServerOptions options;
  options.worker_threads = 1;
  options.max_queued = 1;
  Start(options);
  RawClient running(server_->port()), queued(server_->port()), refused(server_->port());
  running.Send("GET /block HTTP/1.1\r\n\r\n");
  entered_.WaitForNotification();
  queued.Send("GET /hello HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(WaitStats(*server_, [](const ServerStats& s) { return s.requests == 2; }));
  refused.Send("GET /hello HTTP/1.1\r\n\r\n");
  RawClient::Reply busy = refused.Read();
  EXPECT_EQ(busy.status, 503);
  EXPECT_NE(busy.head.find("Retry-After"), std::string::npos);
  release_.Notify();
  EXPECT_EQ(running.Read().body, "unblocked");
  EXPECT_EQ(queued.Read().status, 200);
  EXPECT_EQ(server_->stats().requests_refused_busy, 1u);
}

TEST_F(EventServerTest, ASlowClientIsCutOffWith408AndAnIdleOneClosed) {
  ServerOptions options;
  options.request_timeout = absl::Milliseconds(300);
  options.idle_timeout = absl::Milliseconds(300);
  Start(options);
  RawClient slow(server_->port());
  slow.Send("GET /hello HTTP/1.1\r\nHost: x\r\n");  // never ends its headers
  EXPECT_EQ(slow.Read().status, 408);
  EXPECT_TRUE(slow.WaitClosed());
  RawClient idle(server_->port());
  idle.Send("GET /hello HTTP/1.1\r\n\r\n");
  EXPECT_EQ(idle.Read().status, 200);
  EXPECT_TRUE(idle.WaitClosed());
  EXPECT_EQ(server_->stats().timeouts, 1u);
}

TEST_F(EventServerTest, SendsContinueBeforeTheBodyWhenAsked) {
  Start();
  RawClient c(server_->port());
  c.Send("POST /echo HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_EQ(c.Read().status, 100);
  c.Send("hello");
  RawClient::Reply reply = c.Read();
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "hello");
}

TEST_F(EventServerTest, HeadGetsTheHeadersWithoutTheBody) {
  Start();
  RawClient c(server_->port());
  c.Send("HEAD /hello HTTP/1.1\r\n\r\nGET /hello?name=x HTTP/1.1\r\n\r\n");
  RawClient::Reply head = c.Read(/*head_only=*/true);
  EXPECT_EQ(head.status, 200);
  EXPECT_NE(head.head.find("Content-Length: 21"), std::string::npos) << head.head;
  // The next bytes are the GET's answer: the HEAD sent no body.
  EXPECT_EQ(c.Read().body, "hello x from 127.0.0.1");
}

TEST_F(EventServerTest, StopsWithRequestsParkedAndLaterAnswersAreHarmless) {
  Start();
  RawClient c(server_->port());
  c.Send("GET /park HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(parked_.WaitFor(1));
  server_->Stop();
  EXPECT_TRUE(c.WaitClosed());
  parked_.AnswerAll();
}

TEST(EventServerStartTest, ASecondServerOnTheSamePortFailsClearly) {
  Router router;
  EventServer first(&router, {});
  ASSERT_TRUE(first.Start("127.0.0.1:0").ok());
  EventServer second(&router, {});
  absl::Status s = second.Start(absl::StrCat("127.0.0.1:", first.port()));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("cannot listen for HTTP"), std::string::npos) << s;
  EXPECT_EQ(EventServer(&router, {}).Start("nonsense").code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace andon::http
