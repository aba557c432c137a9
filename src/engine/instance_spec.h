// What an instance of a version is started with: its argv, working directory, port, and the
// environment of its manifest under a slot's sticky settings. Pure functions, but for the
// log reader; used where instances are started (engine/slot_instances.h) and re-adopted
// (engine/recover.cc).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "manifest/manifest.h"
#include "store/store.h"
#include "targets/target.h"

namespace lastgood {

// The environment an instance of `m` runs with under the sticky settings of slot
// `settings` ("" or a slot with none recorded: `m`'s own): `m`'s non-sticky variables travel
// with the version, the slot's sticky ones replace `m`'s sticky ones.
std::vector<EnvVar> EnvFor(const Manifest& m, const std::string& settings,
                           const std::vector<SlotRecord>& slots);
// A version's sticky variables as a slot record keeps them (SlotRecord::stickyEnv).
std::string StickyJson(const Manifest& m);

// An environment with each secret reference replaced by the secret's value
// (engine/secret_env.h makes it).
struct ResolvedEnv {
  std::vector<std::pair<std::string, std::string>> vars;  // in order
  std::vector<std::string> secretNames;  // vars whose values are secrets: never expanded
};

// The spec the target needs to start (or re-adopt) an instance of a version; `env` is the
// instance's environment with its secrets revealed.
InstanceSpec SpecFor(const Manifest& m, const std::string& id, const std::string& release_dir,
                     const std::string& log_dir, int port, const ResolvedEnv& env);

// The last line of an instance's stderr log, for reasons ("" if none).
std::string LastErrorLine(const std::string& log_dir, const std::string& id);

}  // namespace lastgood
