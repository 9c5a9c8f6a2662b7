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

  explicit Responder(Deliver deliver);

  void Send(Response response) const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace andon::http
