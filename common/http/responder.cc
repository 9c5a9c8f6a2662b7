#include "common/http/responder.h"

#include <atomic>
#include <utility>

namespace andon::http {

struct Responder::State {
  State(Deliver d, Executor e) : deliver(std::move(d)), executor(std::move(e)) {}
  ~State() {
    if (!sent.exchange(true)) {
      Response response;
      response.status = 500;
      response.body = "the server's handler ended without an answer\n";
      deliver(std::move(response));
    }
  }
  Deliver deliver;
  Executor executor;
  std::atomic<bool> sent{false};
};

Responder::Responder(Deliver deliver, Executor executor)
    : state_(std::make_shared<State>(std::move(deliver), std::move(executor))) {}

void Responder::SendFrom(std::function<Response()> make) const {
  if (!state_->executor) return Send(make());
  Responder self = *this;
  state_->executor([self, make = std::move(make)] { self.Send(make()); });
}

void Responder::Send(Response response) const {
  if (state_->sent.exchange(true)) return;
  state_->deliver(std::move(response));
}

}  // namespace andon::http
