// NodeState: what a node was asked to run, kept on disk so that a restarted node re-adopts
// its instances (pid + process start time) and restarts those that died while it was away
// (docs/fleets.md, "State on each side"). The file is DIR/node-state.json, rewritten whole
// after every change: a temporary file, fsync, rename, fsync of the folder, so a crash
// leaves the old or the new file, never a torn one. An instance's secret variables are
// written sealed with the node's key (node/sealed_env.h), never in clear.
//
// Not thread-safe: the node guards it with its own mutex.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "secrets/sealing.h"
#include "targets/target.h"

namespace lastgood {

struct NodeInstanceRecord {
  InstanceSpec spec;
  InstanceHandle handle;  // the process last started or adopted
  // Set by Load: the secret variables whose sealed values did not open, each with why (they
  // are left out of spec.env). Empty for a record made since.
  std::vector<std::string> refusedEnv;
};

class NodeState {
 public:
  explicit NodeState(std::string path) : path_(std::move(path)) {}

  // The key that seals secret variables; without one, Save refuses a record that has any.
  void UseKey(const SecretKey& key) { key_ = key; }

  // Reads the file; a missing file is an empty state. InvalidInput for a file that does not
  // parse (the node then refuses to start rather than forget instances that run).
  // A secret variable that does not open is not an error: its record says so (refusedEnv).
  Status Load();
  // Writes the whole state (see above). Unavailable, writing nothing, when a secret variable
  // cannot be sealed.
  Status Save() const;

  const std::map<std::string, NodeInstanceRecord>& instances() const { return instances_; }
  void Put(NodeInstanceRecord record) { instances_[record.spec.id] = std::move(record); }
  void Remove(const std::string& id) { instances_.erase(id); }

 private:
  std::string path_;
  std::optional<SecretKey> key_;
  std::map<std::string, NodeInstanceRecord> instances_;
};

}  // namespace lastgood
