// The router process as the controller sees it: started if it is not running, restarted
// if it dies, and told the whole table again after each start (DESIGN.md section 3). The
// router runs in its own session, so it — and the traffic it carries — outlives the
// controller; a restarted controller finds it on the control socket and leaves it be.
// Thread-safe.
#pragma once

#include <mutex>
#include <string>

#include "base/result.h"
#include "router/control.h"

namespace lastgood {

inline constexpr Millis kRouterStartTimeout{5'000};

class RouterProcess {
 public:
  // `exe` is this lastgood binary; the router is `exe router --home HOME`.
  RouterProcess(std::string exe, std::string home, RouterControl* control)
      : exe_(std::move(exe)), home_(std::move(home)), control_(control) {}

  // OK when a router answers on the control socket, starting one if none does. Sets
  // *started when it had to start one (the caller then publishes the table).
  Status Ensure(bool* started);

 private:
  std::string exe_, home_;
  RouterControl* control_;
  std::mutex mu_;
  int child_ = 0;  // GUARDED_BY(mu_): the router this controller started, to reap it
};

}  // namespace lastgood
