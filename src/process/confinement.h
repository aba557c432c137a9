// Confinement: which Sandbox (process/sandbox.h) each app's processes get on this host —
// decided once, when the controller starts, from what the kernel lets this process do, and
// said in the log and in `status` (docs/security.md, "Deployed code is confined"):
//
// - "app-users" (the controller is root): each app runs as a uid of its own, taken from
//   kAppUidFirst.. and remembered in <home>/uids, or as the existing user its manifest names
//   in run.user (only users an admin allowed with `serve --run-users`; never root);
// - "user-namespaces" (not root, and the kernel allows unprivileged user namespaces): apps
//   run as the controller's user, in namespaces that hide the home and the user's $HOME;
// - "none": neither is possible; deployed code runs as the controller and can read its home.
//   Never silent: Describe() says so, and why.
//
// Each app has a state folder, <home>/state/<app>, that outlives its versions; it is the only
// place below the home that its processes may write ($LASTGOOD_STATE_DIR and $HOME).
//
// Thread-safe: For() may be called from any thread (allocating a uid takes a lock).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/result.h"
#include "process/sandbox.h"

namespace lastgood {

// The uids lastgood gives apps: in the range systemd leaves unused (65536-524287), away from
// its DynamicUser= range (61184-65519) and from container ranges (524288 and up).
inline constexpr unsigned kAppUidFirst = 400000;
inline constexpr unsigned kAppUidCount = 65536;

struct ConfinementOptions {
  std::string home;                       // hidden from deployed code; state and uids below
  std::vector<std::string> hidden_files;  // also hidden: a TLS key kept outside the home
  std::vector<std::string> run_users;     // `serve --run-users`: users run.user may name
  // A fleet node (`lastgood node`): run.user may name any user of the host but root — the
  // controller held it to its own --run-users at apply — and messages speak of the node.
  bool node = false;
};

class Confinement {
 public:
  // Tries what this process may use (a sandboxed /bin/true, ~10 ms) and settles on the
  // strongest; never fails: "none" is an answer, with the reason in Describe().
  static std::unique_ptr<Confinement> Detect(const ConfinementOptions& options);

  Confinement(ConfinementOptions options, Sandbox::Kind kind, std::string reason = "");

  Sandbox::Kind kind() const { return kind_; }
  // "app-users" | "user-namespaces" | "none", as `status -o json` reports it.
  std::string Mode() const;
  // One sentence for the log and `status`.
  std::string Describe() const;

  // At apply: whether this controller may run an app as `run_user` ("" is always fine).
  // InvalidInput with field run.user otherwise.
  Status CheckRunUser(const std::string& run_user) const;
  // At apply of an app that runs on fleet hosts: only whether an admin allowed `run_user`
  // (`serve --run-users`, never root); each host's node checks the rest when it starts an
  // instance there.
  Status CheckRunUserAllowed(const std::string& run_user) const;

  // The sandbox of an app's processes that run from `release_dir`: makes the app's state
  // folder (owned by the app's uid) and, as root, gives the app its uid on first use.
  Result<Sandbox> For(const std::string& app, const std::string& run_user,
                      const std::string& release_dir, const std::string& label);

  std::string StateDir(const std::string& app) const { return options_.home + "/state/" + app; }

  // Who the app's processes run as, for `status`: "uid 412345" (its own; "its own uid, given
  // at its first start" before that), `run_user`, or the controller's user.
  std::string RunsAs(const std::string& app, const std::string& run_user);

 private:
  Result<unsigned> AppUid(const std::string& app);  // REQUIRES: mu_ held
  void LoadUids();                                  // REQUIRES: mu_ held

  const ConfinementOptions options_;
  const Sandbox::Kind kind_;
  const std::string reason_;  // why "none"

  std::mutex mu_;
  std::map<std::string, unsigned> uids_;  // guarded by mu_: app -> uid, from <home>/uids
  bool uids_loaded_ = false;              // guarded by mu_
};

}  // namespace lastgood
