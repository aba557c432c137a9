// Whether a local process is deployed code: what the API asks of its unix socket's peer
// before it takes it for the local admin (issue 11 B3, docs/security.md).
//
// Deployed code is a process in another pid or user namespace than ours — every confined
// process of an app is (process/sandbox.h) — or one whose parent chain reaches a process that
// carries an instance's or a hook's marker (LASTGOOD_INSTANCE, LASTGOOD_DEPLOYMENT in its
// environment): unconfined deployed code, as far as its ancestry still shows it (a double
// fork hides it; which is why confinement, not this check, is the defence that holds).
//
// Thread-safe: reads /proc only.
#pragma once

#include <string>

namespace lastgood {

struct PeerVerdict {
  bool deployed = false;
  std::string why;  // "in a pid namespace of its own", "a child of instance web-…"
};

PeerVerdict ClassifyPeer(int pid);

}  // namespace lastgood
