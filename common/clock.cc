#include "common/clock.h"

namespace andon {

RealClock* RealClock::Get() {
  static RealClock clock;
  return &clock;
}

}  // namespace andon
