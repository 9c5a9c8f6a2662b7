#pragma once

#include <functional>
#include <memory>

#include "common/http/message.h"

namespace andon::http {

// The way back to the client of one request. Copyable, callable from any
// thread, at any time: an asynchronous handler keeps a copy and sends when
// its answer is ready (a fan-out query answers from a gRPC callback thread),
// so no server thread waits. The first Send wins; later ones are ignored. If
// every copy is dropped without a Send, the client gets a 500 that says so
// rather than a connection that hangs. Sending after the client went away or
// the server stopped is harmless.
class Responder {
 public:
  using Deliver = std::function<void(Response)>;
  // Runs work on the server's own threads (or drops it once the server has
  // stopped).
  using Executor = std::function<void(std::function<void()>)>;

  explicit Responder(Deliver deliver, Executor executor = nullptr);

  void Send(Response response) const;
  // Makes the response on the server's threads, then sends it: for an
  // answer that is costly to encode and arrives on a thread that should not
  // be held (a gRPC callback). Without an executor, makes it here.
  void SendFrom(std::function<Response()> make) const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace andon::http
