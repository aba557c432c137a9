// The build id of this binary: the GNU build-id note the linker writes into every executable
// (a hash of its contents), as lowercase hex. Two binaries have the same build id exactly
// when they are the same build, so it tells whether a host's node runs the controller's
// own binary (docs/fleets.md) without hashing files.
//
// Thread-safe: read once, then constant.
#pragma once

#include <string>

namespace lastgood {

// "3f1c…" (40 hex digits for SHA-1 build ids), or "" when the binary carries no note.
// For tests only: the environment variable LASTGOOD_FAKE_BUILD_ID, when set and not empty,
// is taken instead, so that a test runs "another build" of the same binary.
const std::string& BuildId();

// The machine this binary runs on as `uname -m` says it: "x86_64", "aarch64", …
std::string MachineArch();

}  // namespace lastgood
