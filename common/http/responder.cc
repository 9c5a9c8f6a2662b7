#include "common/http/responder.h"

#include <atomic>
#include <utility>

namespace andon::http {

struct Responder::State {
  explicit State(Deliver d) : deliver(std::move(d)) {}
  ~State() {
    if (!sent.exchange(true)) {
      Response response;
      response.status = 500;
      response.body = "the server's handler ended without an answer\n";
      deliver(std::move(response));
    }
  }
  Deliver deliver;
  std::atomic<bool> sent{false};
};

Responder::Responder(Deliver deliver) : state_(std::make_shared<State>(std::move(deliver))) {}

void Responder::Send(Response response) const {
  if (state_->sent.exchange(true)) return;
  state_->deliver(std::move(response));
}

}  // namespace andon::http
