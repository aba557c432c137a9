// Sandbox: how one process of deployed code (an instance, a hook, an exec probe) is confined
// when Spawn starts it (docs/security.md, "Deployed code is confined").
//
// A confined process runs in a pid namespace and a mount namespace of its own:
// - its pid 1 is a small init (lastgood itself, re-executed: sandbox_init.h) that forwards
//   signals to the program's process group, reaps, and exits with the program's status; when
//   it exits the kernel kills whatever the program left behind (a double fork, a setsid);
// - /proc shows only its own processes, so it can signal no process outside;
// - each `hidden` folder (the lastgood home) is covered by an empty read-only folder, with
//   `read_only` (its release) and `writable` (its state folder) bound back at the same
//   paths; each `hidden_files` entry (a TLS key outside the home) reads as empty.
// kAppUser (the controller is root): it runs as `uid`/`gid`, no supplementary groups.
// kUserNamespace (not root): a user namespace maps the controller's own uid; a second,
//   nested one makes the mounts above locked, so that it cannot unmount them.
// Both set no_new_privs: a setuid program gains nothing.
//
// A plain value; thread-safe to copy.
#pragma once

#include <string>
#include <vector>

namespace lastgood {

struct Sandbox {
  enum class Kind { kNone, kAppUser, kUserNamespace };
  Kind kind = Kind::kNone;
  unsigned uid = 0;  // kAppUser: the app's uid; kUserNamespace: the controller's own
  unsigned gid = 0;
  std::vector<std::string> hidden;        // absolute folders
  std::vector<std::string> hidden_files;  // absolute files
  std::vector<std::string> read_only;     // absolute folders, each inside a hidden one
  std::vector<std::string> writable;      // absolute folders, each inside a hidden one
  // The app's folder that outlives versions: $LASTGOOD_STATE_DIR and $HOME of its processes
  // (also when kind is kNone). "" for none.
  std::string state_dir;
  std::string label;  // shown by ps as the init's argument: the instance or hook it runs

  bool confined() const { return kind != Kind::kNone; }
};

}  // namespace lastgood
