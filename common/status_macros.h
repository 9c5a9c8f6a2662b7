#pragma once

// Early-return helpers for absl::Status / absl::StatusOr, which Debian's
// Abseil does not ship.

#define ANDON_CONCAT_INNER(a, b) a##b
#define ANDON_CONCAT(a, b) ANDON_CONCAT_INNER(a, b)

// Returns `expr` from the enclosing function if it is not OK.
#define ANDON_RETURN_IF_ERROR(expr)                \
  do {                                             \
    ::absl::Status andon_status_ = (expr);         \
    if (!andon_status_.ok()) return andon_status_; \
  } while (0)

// `ANDON_ASSIGN_OR_RETURN(auto x, F());` declares x from an OK StatusOr, or
// returns its status.
#define ANDON_ASSIGN_OR_RETURN(lhs, expr) \
  ANDON_ASSIGN_OR_RETURN_IMPL(ANDON_CONCAT(andon_statusor_, __LINE__), lhs, expr)

#define ANDON_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()
