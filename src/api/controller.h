// The controller process (`lastgood serve`): opens the store in the home, re-adopts the
// instances and resumes the deployments an earlier controller left, and serves the API on
// "<home>/api.sock" until SIGTERM or SIGINT. Instances keep running after it stops.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"

namespace lastgood {

struct ControllerOptions {
  std::string home;        // created (0700) if missing
  bool router = true;      // start and drive the router; false: instances on their own ports
  int router_threads = 0;  // the router's worker threads; 0: one per usable CPU
  std::string ui = "127.0.0.1:7071";  // the dashboard's address (ui/dashboard.h); "off": none
  std::string ui_assets;              // the dashboard's files; "" = "ui" beside the binary
  // `--listen`: also serve the API on this TCP address, bearer tokens required (issue 5);
  // "" = unix socket only. With tlsCert and tlsKey, TLS only (api/server.h).
  std::string listen;
  std::string tlsCert;
  std::string tlsKey;
  // `--router-metrics ADDR`: where the router it starts serves GET /metrics ("off": nowhere);
  // "" = a free loopback port, written to <home>/router.admin (docs/metrics.md).
  std::string routerMetrics;
  // `--metrics ADDR`: also serve the controller's GET /metrics there, without a token
  // (docs/metrics.md); "" = only on the API (a viewer token over --listen).
  std::string metrics;
  // `--ssh-config FILE`: every ssh to a fleet host gets `-F FILE` (docs/fleets.md).
  std::string sshConfig;
  std::string auditKeep;  // `--audit-keep 90d`: prune audit rows by age; "" keeps them all
  // `--artifact-root DIR` (repeatable): the folders whose files a caller below admin may name
  // as run.artifact (issue 11 B4); none: such callers may name no artifact.
  std::vector<std::string> artifactRoots;
  // `--max-release-size 2GiB`: what a release may unpack to (issue 11 A6).
  std::string maxReleaseSize;
  // `--max-upload-size 2GiB`: the largest artifact a remote apply may send (issue 15).
  std::string maxUploadSize;
  // `--run-users`: the users a manifest's run.user may name (process/confinement.h).
  std::vector<std::string> runUsers;
  // `--socket-group GROUP`: its members use api.sock as the local admin (api/socket_group.h).
  std::string socketGroup;
};

// How often the controller checks that the router answers, and does its upkeep.
inline constexpr int kControllerTickMillis = 500;
// An artifact sent by a remote apply that no version uses is deleted once it was neither sent
// nor asked about for this long (artifacts/upload.h); uploads are looked at this often.
inline constexpr int64_t kUploadGraceMillis = 3'600'000;
inline constexpr int64_t kUploadSweepMillis = 300'000;

// Returns the process exit code: 0 after a clean stop; 2 for bad --listen/--tls-* values
// (address, a cert without a key, files that do not load); 3 if another controller runs
// with this home; 5 if the store or a socket cannot be opened.
int RunController(const ControllerOptions& options);

// Takes the exclusive lock that a controller holds on "<home>/controller.lock" for its
// whole life. Returns the fd to keep (closing it releases the lock), or -1 when a
// controller (or another holder) has it; *holder then names its pid if known.
int LockHome(const std::string& home, std::string* holder = nullptr);

// The store of a home whose controller is stopped (the CLI never opens the store itself;
// with a controller running, a backup goes through POST /v1/backup). Both hold the home's
// controller lock while they work, so that no controller starts meanwhile; Conflict when a
// controller runs. BackupHome writes a checked snapshot to `file` (which must not exist);
// RestoreHome replaces the store with the snapshot in `file` (store/backup.h).
Status BackupHome(const std::string& home, const std::string& file);
Status RestoreHome(const std::string& home, const std::string& file);

// The home: --home, else $LASTGOOD_HOME, else $XDG_STATE_HOME/lastgood, else
// ~/.local/state/lastgood.
std::string ResolveHome(const std::string& flag);

}  // namespace lastgood
