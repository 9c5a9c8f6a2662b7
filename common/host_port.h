#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace andon {

// Splits "host:port" ("[::1]:80" for IPv6); fails with a message that shows
// the expected form.
absl::Status SplitHostPort(absl::string_view address, std::string* host, int* port);

}  // namespace andon
