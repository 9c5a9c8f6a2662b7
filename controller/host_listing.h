#pragma once

#include "absl/status/statusor.h"
#include "andon/v1/fleet.pb.h"
#include "controller/registry.h"

namespace andon::controller {

inline constexpr uint32_t kDefaultHostPage = 500;
inline constexpr uint32_t kMaxHostPage = 5000;

// One page of the fleet's hosts: filtered by selector (label matchers, with
// `host` for the id), name substring and state; ordered; paged by an
// opaque token (an offset into the ordered, filtered list: a host joining
// between pages may shift it by one); with counts of every matching host by
// state, aggregator and, when asked, a label's values. One pass over the
// registry under its reader lock; only the page's hosts are copied.
// INVALID_ARGUMENT names a bad selector, state, order_by or page token.
absl::StatusOr<v1::ListHostsResponse> ListHostsPage(const Registry& registry,
                                                    const v1::ListHostsRequest& request);

}  // namespace andon::controller
