// Named fault points: a test-only seam (STYLE.md rule 4) that makes one I/O step fail with a
// chosen errno, for resource faults that cannot be produced on demand, such as a full disk.
//
// The points are set by the environment variable LASTGOOD_FAULTS, a comma-separated list of
// POINT=ERRNO (`artifact.write=ENOSPC,release.write=EDQUOT`), read once per process, the
// first time any point is checked (the controller checks at start). Unset, as in
// production, no point ever fires. An unknown errno name is ignored.
//
// Points (each named where it is checked):
//   artifact.write  storing an artifact's bytes (ArtifactStore::Put)
//   release.write   filling a version's release directory (ArtifactStore::EnsureRelease)
//
// Thread-safe: the set is fixed after it is read.
#pragma once

#include <string>
#include <string_view>

namespace lastgood {

inline constexpr char kFaultsEnv[] = "LASTGOOD_FAULTS";

// The errno the point `name` fails with, or 0 when it is not set.
int InjectedFault(std::string_view name);

// The points that are set, as "point=ERRNO,…" ("" when none): for the controller's log.
std::string InjectedFaults();

}  // namespace lastgood
