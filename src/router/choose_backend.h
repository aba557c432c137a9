// ChooseBackend: where one request goes — the slot (pinned by the client, split, or the
// listener's), the version of that slot by weight, and the first backend of that version
// to try. A pure function of the compiled table, what the request says, and the calling
// worker's round-robin state (docs/router.md, "Pinning and split"); the request path calls
// it once per request. Thread-compatible: each worker passes its own state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "router/compiled_table.h"

namespace lastgood {

// What the request says that bears on the choice (views into its head).
struct RouteRequest {
  std::string_view slot_header;  // X-Lastgood-Slot
  std::string_view target;       // the request target, for ?lastgood-slot=
  std::string_view cookie;       // the Cookie header, for lastgood-slot=
};

// A worker's running state for the table in force (CompiledTable::swrr_size and
// round_robin_size entries, zeroed when the worker adopts a table).
struct ChoiceState {
  int64_t* swrr;
  uint32_t* round_robin;
};

struct BackendChoice {
  int slot = -1;                             // index into app.slots
  const CompiledVersion* version = nullptr;  // null: no version with weight and backends (503)
  size_t first_backend = 0;                  // try version->backends[first_backend] first
  std::string_view set_cookie;               // slot to pin the client to with Set-Cookie, or ""
  bool pinned = false;                       // the client named a slot the router would not pick
};

// REQUIRES: `route` belongs to `app` in the same compiled table.
BackendChoice ChooseBackend(const CompiledApp& app, const ListenerRoute& route,
                            const RouteRequest& request, ChoiceState state);

}  // namespace lastgood
