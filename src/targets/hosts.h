// Hosts: the fleet as the engine drives it (docs/fleets.md, "Fleet deployments"). Each
// registered host is reached through its node; HostNode is what a deployment's step needs of
// one host — its instances (a Target), its router (a RouterControl), a readiness probe run
// there (an instance listens on the host's own loopback, which the controller cannot reach),
// and a release directory made there from an artifact checked by digest.
//
// The real implementation is the Fleet (targets/remote/fleet.h), over OpenSSH; tests give
// the engine fakes (tests/testutil/fake_hosts.h).
//
// Thread-safe: every method may be called from any thread. A HostNode stays valid as long as
// a caller holds it, also after its host is removed (its calls then fail, Unavailable).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "health/probe.h"
#include "router/control.h"
#include "targets/target.h"

namespace lastgood {

class HostNode {
 public:
  virtual ~HostNode() = default;
  // The host's instances. Calls fail (Unavailable, with why) while the host is unreachable.
  virtual Target* target() = 0;
  // The host's router.
  virtual RouterControl* router() = 0;
  // One readiness probe of an instance, run on the host; a host that cannot be asked is a
  // failed probe that says why.
  virtual ProbeResult Probe(const ProbeSpec& spec) = 0;
  // The release directory of (app, version) on the host: the artifact (`digest`, read from
  // `artifact_path` on this machine) is sent only when the host lacks it, and checked by
  // digest there before anything is unpacked. `name` is the artifact's file name.
  virtual Result<std::string> EnsureRelease(const std::string& app, int version,
                                            const std::string& digest, const std::string& name,
                                            const std::string& artifact_path) = 0;
};

// A registered host as the engine sees it now.
struct HostInfo {
  std::string name;
  std::map<std::string, std::string> labels;
  bool reachable = false;
  std::string problem;  // why it is unreachable (ssh's own words), "" when reachable
};

class Hosts {
 public:
  virtual ~Hosts() = default;
  // Every registered host, by name, as it is now.
  virtual std::vector<HostInfo> Snapshot() = 0;
  // The node of `name`; null for a host that is not registered.
  virtual std::shared_ptr<HostNode> Driver(const std::string& name) = 0;
};

}  // namespace lastgood
