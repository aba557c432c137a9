#include "targets/remote/remote_host.h"

#include <sys/stat.h>

namespace lastgood {

RemoteHostNode::RemoteHostNode(std::string host, std::shared_ptr<const NodeClient> node,
                               std::string node_home, HostCommand run)
    : host_(std::move(host)),
      node_(std::move(node)),
      node_home_(std::move(node_home)),
      run_(std::move(run)),
      target_(NewRemoteTarget(node_)),
      router_(NewRemoteRouter(node_)) {}

ProbeResult RemoteHostNode::Probe(const ProbeSpec& spec) {
  auto r = node_->Probe(spec);
  if (r.ok()) return *r;
  ProbeResult failed;
  failed.detail = "the node on " + host_ + " did not probe: " + r.error().message;
  return failed;
}

Result<std::string> RemoteHostNode::EnsureRelease(const std::string& app, int version,
                                                  const std::string& digest,
                                                  const std::string& name,
                                                  const std::string& artifact_path) {
  if (!digest.empty()) {
    auto has = node_->HasArtifact(digest);
    if (!has.ok()) return has.error();
    if (!*has) {
      struct stat st {};
      if (::stat(artifact_path.c_str(), &st) != 0)
        return Error::NotFound("the artifact " + digest + " is not in the controller's store");
      std::vector<std::string> argv = {node_home_ + "/bin/lastgood", "node", "--home", node_home_,
                                       "--receive-artifact",         digest};
      if (st.st_mode & S_IXUSR) argv.push_back("--executable");
      auto pushed = run_(argv, artifact_path, kArtifactPushTimeout);
      if (!pushed.ok()) return pushed.error();
      if (pushed->exitCode != 0) {
        return Error::Unavailable("sending the artifact " + digest + " to " + host_ +
                                  " failed: " + pushed->output);
      }
    }
  }
  return node_->EnsureRelease(app, version, digest, name);
}

}  // namespace lastgood
