// `lastgood node`: the agent of a host (docs/fleets.md). Flags are parsed by hand, as the
// router's are, so that the CLI hands argv over as it is:
//
//   lastgood node [--home DIR] [--detach]
//   lastgood node [--home DIR] --receive-artifact DIGEST [--executable]   (file on stdin)
//
// Exit codes: 0 stopped cleanly (or artifact stored); 2 bad flags, or an artifact whose
// digest is not the one named; 3 another node runs with this home; 5 the home, the state
// file, the router or the socket cannot be used.
#pragma once

namespace lastgood {

// The node's home when --home is not given: /var/lib/lastgood-node for root, else
// $XDG_STATE_HOME/lastgood-node, else ~/.local/state/lastgood-node.
const char* const kRootNodeHome = "/var/lib/lastgood-node";

int NodeMain(int argc, char** argv);

}  // namespace lastgood
