// RouterHealth: what GET /v1/health on the control socket reports — the table in force, the
// process serving it and its build, and the state of every table listener (an address the
// router could not bind is reported here, not fatal: docs/router.md, "A listener that
// cannot be bound"). A plain value.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"

namespace lastgood {

// A table listener address and whether the router could bind it.
struct ListenerState {
  std::string address;
  bool bound = false;
  std::string error;  // why not, when not bound
  bool operator==(const ListenerState&) const = default;
};

struct RouterHealth {
  uint64_t generation = 0;
  int pid = 0;                   // the process that serves requests (router.pid)
  std::string buildId;           // lastgood --version's buildId of that process
  int64_t statsSinceMillis = 0;  // wall clock from which the statistics are complete
  std::vector<ListenerState> listeners;
};

std::string HealthToJson(const RouterHealth& health);
Result<RouterHealth> HealthFromJson(const std::string& json);

}  // namespace lastgood
