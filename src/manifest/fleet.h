// The fleet fields of a manifest (issue 14, docs/fleets.md): `hosts:` (a list of host names or
// `{ selector: { LABEL: VALUE, … } }`), `waves:` (cumulative counts or percents),
// `maxFailedHosts:` (a count or a percent) and `maxParallel:`. Reading them with field paths
// and lines, writing them into the canonical YAML (only when set, so that the content hash of
// a manifest without them is what it always was), and the pure rules a fleet deployment
// plans with: which registered hosts a manifest selects, how they split into waves, and how
// many may fail.
//
// Thread-safety: pure functions.
#pragma once

#include <yaml-cpp/yaml.h>

#include <map>
#include <string>
#include <vector>

#include "base/result.h"
#include "manifest/field_reader.h"
#include "manifest/manifest.h"

namespace lastgood {

inline constexpr int kMaxFleetHosts = 10'000;
inline constexpr int kMaxWaves = 100;

// A registered host as the selection sees it.
struct SelectableHost {
  std::string name;
  std::map<std::string, std::string> labels;
};

// The hosts `fleet` selects among `registered`, in the order written (a list) or by name (a
// selector). NotFound naming the field and the host for a listed host that is not
// registered; NotFound when a selector matches none.
Result<std::vector<std::string>> SelectHosts(const FleetSpec& fleet,
                                             const std::vector<SelectableHost>& registered);

// `hosts` split into waves: wave i holds the hosts from the end of wave i-1 up to the wave's
// cumulative count (a percent of hosts.size(), rounded up). A last wave below every host is
// followed by one of the rest. InvalidInput (field "waves") for a wave that adds no host.
Result<std::vector<std::vector<std::string>>> PlanWaves(const std::vector<std::string>& hosts,
                                                        const std::vector<HostCount>& waves);

// How many of `hosts` hosts may fail before the deployment does: a count as written, a
// percent rounded down (a tolerance is never rounded up).
int MaxFailedHosts(const HostCount& limit, int hosts);

// "3" or "25%".
std::string HostCountText(const HostCount& c);

}  // namespace lastgood

namespace lastgood::manifest_internal {

// The four fleet fields of the document `top`; absent fields keep their defaults.
// InvalidInput for waves, maxFailedHosts or maxParallel without hosts.
Result<FleetSpec> ReadFleet(const FieldReader& reader, const MapFields& top);

void WriteFleet(YAML::Emitter& out, const FleetSpec& fleet);

}  // namespace lastgood::manifest_internal
