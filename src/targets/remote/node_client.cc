#include "targets/remote/node_client.h"

#include <mutex>
#include <set>

#include "base/unix_http.h"

namespace lastgood {
namespace {

using json = nlohmann::json;

// Digests and ids travel in paths; both are plain ("sha256:<hex>", [A-Za-z0-9._-]).
bool PathSafe(const std::string& s) {
  if (s.empty() || s.size() > 200) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.' &&
        c != ':')
      return false;
  }
  return true;
}

class RemoteTarget : public Target {
 public:
  explicit RemoteTarget(std::shared_ptr<const NodeClient> node) : node_(std::move(node)) {}

  Result<InstanceHandle> Start(const InstanceSpec& spec) override {
    // Supervised from the request on: a start whose answer is lost is no stray.
    Supervise(spec.id, true);
    return node_->Ensure(spec);
  }

  Result<InstanceHandle> Adopt(const InstanceSpec& spec, const InstanceHandle& h) override {
    auto s = node_->InstanceState(spec.id);
    if (!s.ok()) return s.error();
    if (!s->alive) return Error::NotFound("instance " + spec.id + " does not run on the node");
    (void)h;
    Supervise(spec.id, true);
    return s->handle;
  }

  lastgood::Status Stop(const std::string& id) override {
    auto s = node_->Stop(id);
    if (s.ok()) Supervise(id, false);
    return s;
  }

  Result<InstanceStatus> Status(const std::string& id) override { return node_->InstanceState(id); }

  void Detach() override {}

  // What the node runs that this controller neither started nor adopted: an instance started
  // by a controller killed before it recorded it. Nothing the record does not show runs on a
  // host either; one the node cannot be asked about now stays (it is swept at the next start).
  void StopStrays() override {
    auto running = node_->Instances();
    if (!running.ok()) return;
    for (const auto& inst : *running) {
      bool known;
      {
        std::lock_guard lock(mu_);
        known = supervised_.count(inst.spec.id) > 0;
      }
      if (!known) (void)node_->Stop(inst.spec.id);
    }
  }

 private:
  void Supervise(const std::string& id, bool yes) {
    std::lock_guard lock(mu_);
    if (yes)
      supervised_.insert(id);
    else
      supervised_.erase(id);
  }

  const std::shared_ptr<const NodeClient> node_;
  std::mutex mu_;
  std::set<std::string> supervised_;  // GUARDED_BY(mu_): started or adopted here
};

class RemoteRouter : public RouterControl {
 public:
  explicit RemoteRouter(std::shared_ptr<const NodeClient> node) : node_(std::move(node)) {}
  Status Apply(const RoutingTable& table) override { return node_->ApplyTable(table); }
  Result<RouterStats> Stats(Millis window) override { return node_->Stats(window); }
  // What lets the engine fail a host's step whose new route address its router cannot bind
  // (engine/routes.cc, NewListenersBound), as on the controller's machine.
  Result<RouterHealth> Health() override { return node_->Health(); }
  Status Ping() override {
    auto info = node_->Info();
    return info.ok() ? Status::Ok() : Status(info.error());
  }

 private:
  std::shared_ptr<const NodeClient> node_;
};

}  // namespace

Result<json> NodeClient::Call(const std::string& method, const std::string& target,
                              const std::string& body, Millis timeout) const {
  auto reply = UnixHttpCall(socket_, method, target, body, timeout);
  if (!reply.ok()) return reply.error();
  if (reply->status / 100 != 2) return ErrorFromReply(*reply, "the node at " + socket_);
  if (reply->body.empty()) return json::object();
  auto j = json::parse(reply->body, nullptr, false);
  if (j.is_discarded()) return Error::Internal("the node at " + socket_ + " answered no JSON");
  return j;
}

Result<json> NodeClient::Logs(const std::string& query) const {
  return Call("GET", "/v1/logs?" + query, "");
}

Result<NodeInfo> NodeClient::Info(Millis timeout) const {
  auto j = Call("GET", "/v1/node", "", timeout);
  if (!j.ok()) return j.error();
  return NodeInfoFromJson(*j);
}

Status NodeClient::StopNode() const {
  auto j = Call("POST", "/v1/node/stop", "");
  return j.ok() ? Status::Ok() : Status(j.error());
}

Result<InstanceHandle> NodeClient::Ensure(const InstanceSpec& spec) const {
  if (!PathSafe(spec.id)) return Error::InvalidInput("instance id '" + spec.id + "' is not plain");
  auto j = Call("PUT", "/v1/instances/" + spec.id, SpecToJson(spec).dump());
  if (!j.ok()) return j.error();
  return HandleFromJson(*j);
}

Result<InstanceStatus> NodeClient::InstanceState(const std::string& id) const {
  if (!PathSafe(id)) return Error::NotFound("no instance " + id);
  auto j = Call("GET", "/v1/instances/" + id, "");
  if (!j.ok()) return j.error();
  return InstanceStatusFromJson(*j);
}

Status NodeClient::Stop(const std::string& id) const {
  if (!PathSafe(id)) return Status::Ok();  // never started: nothing to stop
  auto j = Call("DELETE", "/v1/instances/" + id, "");
  return j.ok() ? Status::Ok() : Status(j.error());
}

Result<std::vector<NodeInstance>> NodeClient::Instances() const {
  auto j = Call("GET", "/v1/instances", "");
  if (!j.ok()) return j.error();
  if (!j->is_array()) return Error::Internal("the node's instance list is not an array");
  std::vector<NodeInstance> out;
  for (const auto& item : *j) {
    if (!item.is_object() || !item.contains("spec") || !item.contains("status"))
      return Error::Internal("the node's instance list holds a malformed entry");
    auto spec = SpecFromJson(item["spec"]);
    auto status = InstanceStatusFromJson(item["status"]);
    if (!spec.ok()) return spec.error();
    if (!status.ok()) return status.error();
    out.push_back({*spec, *status});
  }
  return out;
}

Result<ProbeResult> NodeClient::Probe(const ProbeSpec& spec) const {
  // The node's answer comes after the probe's own timeout at most.
  auto j = Call("POST", "/v1/probe", ProbeToJson(spec).dump(), spec.timeout + kNodeCallTimeout);
  if (!j.ok()) return j.error();
  return ProbeResultFromJson(*j);
}

Status NodeClient::ApplyTable(const RoutingTable& table) const {
  auto j = Call("PUT", "/v1/router/table", TableToJson(table));
  return j.ok() ? Status::Ok() : Status(j.error());
}

Result<RouterHealth> NodeClient::Health() const {
  auto reply = UnixHttpCall(socket_, "GET", "/v1/router/health", "", kNodeCallTimeout);
  if (!reply.ok()) return reply.error();
  if (reply->status != 200) return ErrorFromReply(*reply, "the node at " + socket_);
  return HealthFromJson(reply->body);
}

Result<RouterStats> NodeClient::Stats(Millis window) const {
  auto reply = UnixHttpCall(socket_, "GET",
                            "/v1/router/stats?window=" + std::to_string(window.count()) + "ms", "",
                            kNodeCallTimeout);
  if (!reply.ok()) return reply.error();
  if (reply->status != 200) return ErrorFromReply(*reply, "the node at " + socket_);
  return StatsFromJson(reply->body);
}

Result<bool> NodeClient::HasArtifact(const std::string& digest) const {
  if (!PathSafe(digest)) return Error::InvalidInput("digest '" + digest + "' is not plain");
  auto j = Call("GET", "/v1/artifacts/" + digest, "");
  if (j.ok()) return true;
  if (j.error().code == ErrorCode::kNotFound) return false;
  return j.error();
}

Result<std::string> NodeClient::EnsureRelease(const std::string& app, int version,
                                              const std::string& digest,
                                              const std::string& name) const {
  json body = {{"app", app}, {"version", version}, {"digest", digest}, {"name", name}};
  auto j = Call("POST", "/v1/releases", body.dump());
  if (!j.ok()) return j.error();
  if (!j->contains("dir") || !(*j)["dir"].is_string())
    return Error::Internal("the node answered a release without its directory");
  return (*j)["dir"].get<std::string>();
}

std::unique_ptr<Target> NewRemoteTarget(std::shared_ptr<const NodeClient> node) {
  return std::make_unique<RemoteTarget>(std::move(node));
}

std::unique_ptr<RouterControl> NewRemoteRouter(std::shared_ptr<const NodeClient> node) {
  return std::make_unique<RemoteRouter>(std::move(node));
}

}  // namespace lastgood
