// The router's keeper (issue 13; docs/router.md "How the sockets move"): `lastgood router`
// is two processes. The keeper holds a descriptor of every listening socket and starts the
// worker (`lastgood router --worker`, the same binary through /proc/self/exe), which serves
// requests, owns the control socket and names itself in router.pid. The keeper does no I/O
// on the sockets; it only keeps them open, so that:
//   - when the worker dies (a crash, SIGKILL), the sockets stay open and new connections wait
//     in their backlog — none is refused — while the keeper starts another worker at once;
//   - SIGTERM to the worker is a restart with a drain: the worker stops accepting, tells the
//     keeper, which starts its successor; the old one finishes what is in flight and exits;
//   - `lastgood router --take-over` (what `serve` runs when the running router's build id
//     differs from its own) is a new keeper that asks the running one for its sockets over
//     <home>/router-keeper.sock (SCM_RIGHTS), starts its own worker, and once that worker
//     serves tells the old keeper, which drains its worker and exits;
//   - SIGTERM or SIGINT to the keeper stops both, the worker draining;
//   - a keeper that dies alone leaves the worker serving: the worker starts a new keeper
//     (`lastgood router --adopt-worker PID`), hands it copies of its sockets over a new
//     channel, and the new keeper watches the worker it did not start through a pidfd, so
//     that the next crash of the worker is covered again.
// The worker tells the keeper which sockets to hold as it binds and closes them
// (router/socket_handoff.h); its channel to the keeper is its standard input.
//
// RunKeeper is the whole process; it returns its exit code.
#pragma once

#include "router/router.h"

namespace lastgood {

inline constexpr const char* kKeeperSocketName = "router-keeper.sock";
inline constexpr const char* kKeeperPidName = "router-keeper.pid";

// `adopt_worker`: the pid of a running worker whose keeper died; this keeper's channel to it
// is its standard input, on which the worker first sends its sockets.
int RunKeeper(const RouterOptions& options, bool take_over, int adopt_worker = 0);

}  // namespace lastgood
