#include "targets/remote/fleet.h"

#include <chrono>

#include "base/build_id.h"
#include "base/names.h"
#include "targets/remote/remote_host.h"

namespace lastgood {
namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr Millis kCommandTimeout{30'000};

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Printable, no spaces or control characters; ssh must not take it for an option.
Status ValidateDestination(const std::string& dest) {
  if (dest.empty() || dest.size() > 255)
    return Error::InvalidInput("--ssh wants a destination (host, user@host or an ssh alias)",
                               "ssh");
  if (dest[0] == '-')
    return Error::InvalidInput("--ssh '" + dest + "' would be read as an option", "ssh");
  for (unsigned char c : dest) {
    if (c <= ' ' || c == 0x7f)
      return Error::InvalidInput("--ssh '" + dest + "' holds a space or a control character",
                                 "ssh");
  }
  return Status::Ok();
}

Status ValidateLabel(const std::string& key, const std::string& value) {
  LG_RETURN_IF_ERROR(ValidateName(key, "label name", "labels"));
  if (value.empty() || value.size() > 63)
    return Error::InvalidInput("label " + key + " wants a value of 1 to 63 characters", "labels");
  for (char c : value) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.')
      return Error::InvalidInput(
          "label " + key + "='" + value + "' may hold only letters, digits, '-', '_' and '.'",
          "labels");
  }
  return Status::Ok();
}

Status ValidateHome(const std::string& home) {
  if (home.empty()) return Status::Ok();
  if (home[0] != '/' || home.size() > 200)
    return Error::InvalidInput("--node-home wants an absolute path on the host", "nodeHome");
  for (unsigned char c : home) {
    if (c < ' ' || c == 0x7f || c == ':')
      return Error::InvalidInput("--node-home holds a control character or ':'", "nodeHome");
  }
  return Status::Ok();
}

// Whether `line` is one of the lines of `output` (what a remote shell's startup files print
// comes before or after a command's own answer, never inside its line).
bool HasLine(const std::string& output, const std::string& line) {
  size_t at = 0;
  while (at <= output.size()) {
    size_t end = output.find('\n', at);
    if (end == std::string::npos) end = output.size();
    std::string l = output.substr(at, end - at);
    if (!l.empty() && l.back() == '\r') l.pop_back();
    if (l == line) return true;
    at = end + 1;
  }
  return false;
}

}  // namespace

Fleet::Fleet(Store* store, SshSettings settings, std::string self_exe)
    : store_(store), settings_(std::move(settings)), self_exe_(std::move(self_exe)) {}

Fleet::~Fleet() {
  stopping_ = true;
  wake_.notify_all();
  if (monitor_.joinable()) monitor_.join();
  checks_.WaitIdle();
  std::unique_lock lock(mu_);
  connectors_done_.wait(lock, [&] { return connectors_ == 0; });
  for (auto& [name, h] : hosts_) h->link->Close();
}

void Fleet::Start() {
  auto records = store_->ListHosts();
  if (records.ok()) {
    std::lock_guard lock(mu_);
    for (const auto& rec : *records) {
      auto h = std::make_shared<Host>();
      h->record = rec;
      h->link = std::make_unique<SshLink>(settings_, rec.name, rec.ssh, &pacer_);
      h->node = std::make_shared<NodeClient>(h->link->LocalSocket());
      h->driver = DriverFor(h);
      h->storedSeen = rec.lastSeen;
      hosts_[rec.name] = h;
    }
  }
  monitor_ = std::thread([this] { Monitor(); });
}

std::shared_ptr<HostNode> Fleet::DriverFor(const std::shared_ptr<Host>& host) {
  std::weak_ptr<Host> weak = host;
  HostCommand run = [weak](const std::vector<std::string>& argv, const std::string& stdin_path,
                           Millis timeout) -> Result<CommandResult> {
    auto h = weak.lock();
    if (!h) return Error::Unavailable("the host was removed");
    if (!h->link->Up()) return Error::Unavailable("the ssh connection is down");
    return h->link->Run(argv, stdin_path, timeout);
  };
  return std::make_shared<RemoteHostNode>(host->record.name, host->node, host->record.nodeHome,
                                          std::move(run));
}

std::vector<HostInfo> Fleet::Snapshot() {
  std::lock_guard lock(mu_);
  std::vector<HostInfo> out;
  for (const auto& [name, h] : hosts_) {
    // A node being replaced is away for the engine: a deployment that starts meanwhile counts
    // the host as unreachable, and a reconcile brings it along once the new node answers.
    if (h->upgrading)
      out.push_back({name, h->record.labels, false, "its node is being upgraded"});
    else
      out.push_back({name, h->record.labels, h->reachable, h->problem});
  }
  return out;
}

std::shared_ptr<HostNode> Fleet::Driver(const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = hosts_.find(name);
  return it == hosts_.end() ? nullptr : it->second->driver;
}

void Fleet::WaitForFirstContact(Millis timeout) {
  std::unique_lock lock(mu_);
  connectors_done_.wait_for(lock, timeout, [&] {
    for (const auto& [name, h] : hosts_) {
      if (!h->tried) return false;
    }
    return true;
  });
}

Status Fleet::Open(Host* h) {
  LG_RETURN_IF_ERROR(h->link->Connect(false));
  return h->link->Forward(h->record.nodeHome + "/node.sock");
}

void Fleet::Check(const std::string& name) {
  std::shared_ptr<Host> h;
  {
    std::lock_guard lock(mu_);
    auto it = hosts_.find(name);
    if (it == hosts_.end()) return;
    h = it->second;
    if (h->upgrading) return;  // its node is being replaced; the upgrade says how it went
  }
  auto info = h->node->Info(kNodePingTimeout);
  // A node of an earlier build has no router health to give: no listeners then.
  auto health = info.ok() ? h->node->Health() : Result<RouterHealth>(Error::Unavailable(""));
  std::lock_guard lock(mu_);
  h->listeners = health.ok() ? health->listeners : std::vector<ListenerState>{};
  if (!info.ok()) {
    h->reachable = false;
    h->problem = info.error().message;
    return;
  }
  h->reachable = true;
  h->problem.clear();
  h->nodeLastgood = {info->version, info->buildId, info->commit};
  h->instances = info->instances;
  h->confinement = info->confinement;
  h->confinementDetail = info->confinementDetail;
  h->record.lastSeen = NowMillis();
  h->record.nodeBuild = info->buildId;
  // The exact time is in memory; the store hears of it twice a minute at most.
  if (h->record.lastSeen - h->storedSeen >= 30'000) {
    h->storedSeen = h->record.lastSeen;
    (void)store_->TouchHost(name, h->record.lastSeen, info->buildId);
  }
}

void Fleet::Monitor() {
  while (!stopping_) {
    std::vector<std::shared_ptr<Host>> hosts;
    {
      std::unique_lock lock(mu_);
      for (auto& [name, h] : hosts_) hosts.push_back(h);
    }
    for (auto& h : hosts) {
      if (stopping_) break;
      if (h->link->Up()) {
        // Side by side: a hung node holds its own check, never the others' (HostChecks).
        checks_.Start(h->record.name, [this, h](const std::string& name) {
          Check(name);
          std::lock_guard lock(mu_);
          h->tried = true;
          connectors_done_.notify_all();
        });
        continue;
      }
      std::lock_guard lock(mu_);
      if (h->connecting || SteadyClock::now() < h->retryAt) continue;
      if (h->reachable || h->problem.empty()) {
        std::string why = h->link->LastError();
        h->problem = "the ssh connection is down" + (why.empty() ? "" : ": " + why);
      }
      h->reachable = false;
      h->connecting = true;
      // Each reconnection on a thread of its own; the pacer bounds how many start at once.
      ++connectors_;
      std::thread([this, h] {
        Status opened = Open(h.get());
        bool ok = opened.ok();
        {
          std::lock_guard lock(mu_);
          if (!ok) h->problem = opened.error().message;
          h->connecting = false;
          h->backoff = ok ? kReconnectMin : std::min(h->backoff * 2, kReconnectMax);
          h->retryAt = SteadyClock::now() + (ok ? Millis(0) : h->backoff);
        }
        if (ok) Check(h->record.name);
        std::lock_guard lock(mu_);
        h->tried = true;
        --connectors_;
        connectors_done_.notify_all();
      }).detach();
    }
    std::unique_lock lock(mu_);
    wake_.wait_for(lock, kFleetTick, [&] { return stopping_.load(); });
  }
}

HostView Fleet::ViewOf(const Host& h) const {
  return HostView{h.record,    h.reachable, h.nodeLastgood, h.problem,
                  h.instances, h.listeners, h.confinement,  h.confinementDetail};
}

Result<HostView> Fleet::Add(const HostAddRequest& req) {
  LG_RETURN_IF_ERROR(ValidateName(req.name, "host name", "name"));
  if (req.name == "local")
    return Error::InvalidInput("'local' is the controller's own machine; choose another name",
                               "name");
  LG_RETURN_IF_ERROR(ValidateDestination(req.ssh));
  if (req.labels.size() > 32) return Error::InvalidInput("at most 32 labels", "labels");
  for (const auto& [k, v] : req.labels) LG_RETURN_IF_ERROR(ValidateLabel(k, v));
  LG_RETURN_IF_ERROR(ValidateHome(req.nodeHome));
  {
    std::lock_guard lock(mu_);
    if (hosts_.count(req.name))
      return Error::Conflict("a host named " + req.name + " exists; remove it first");
  }
  auto h = std::make_shared<Host>();
  h->record = HostRecord{req.name, req.ssh, req.labels, req.nodeHome, "", NowMillis(), 0};
  h->link = std::make_unique<SshLink>(settings_, req.name, req.ssh, &pacer_);
  if (auto s = h->link->Connect(req.acceptNewHostKey); !s.ok()) return s.error();
  auto fail = [&](Error e) {
    h->link->Close();
    return e;
  };
  auto arch = h->link->Run({"uname", "-m"}, "", kCommandTimeout);
  if (arch.exitCode != 0)
    return fail(Error::Unavailable("cannot run uname -m on " + req.name + ": " + arch.output));
  if (!HasLine(arch.output, MachineArch())) {
    return fail(Error::InvalidInput("host " + req.name + " is " + CommandAnswer(arch.output) +
                                    ", this controller " + MachineArch() +
                                    ": its binary cannot run there"));
  }
  if (h->record.nodeHome.empty()) {
    auto uid = h->link->Run({"id", "-u"}, "", kCommandTimeout);
    if (CommandAnswer(uid.output) == "0") {
      h->record.nodeHome = kRootNodeHomeOnHost;
    } else {
      auto home = h->link->Run({"printenv", "HOME"}, "", kCommandTimeout);
      if (home.exitCode != 0 || CommandAnswer(home.output).empty() ||
          CommandAnswer(home.output)[0] != '/')
        return fail(Error::Unavailable("cannot learn the ssh user's home on " + req.name +
                                       "; pass --node-home"));
      h->record.nodeHome = CommandAnswer(home.output) + "/" + kUserNodeHomeOnHost;
    }
  }
  const std::string nh = h->record.nodeHome;
  if (auto s = h->link->Forward(nh + "/node.sock"); !s.ok()) return fail(s.error());
  h->node = std::make_shared<NodeClient>(h->link->LocalSocket());

  // No node there: ours is installed and started. A node of another build: it is upgraded
  // as `host upgrade` does (its router taken over, its instances re-adopted).
  SshNodeHost node_host(h->link.get(), h->node.get(), &copies_);
  const NodeBinary binary{self_exe_, BuildId()};
  auto info = h->node->Info(kNodePingTimeout);
  if (!info.ok()) {
    bool copied = false;
    if (auto s = InstallNodeBinary(&node_host, req.name, nh, binary, &copied); !s.ok())
      return fail(s.error());
    if (auto s = StartNode(&node_host, req.name, nh, binary.buildId); !s.ok())
      return fail(s.error());
  } else if (info->buildId != binary.buildId) {
    if (auto up = UpgradeNode(&node_host, req.name, nh, binary); !up.ok()) return fail(up.error());
  }
  info = h->node->Info(kNodePingTimeout);
  if (!info.ok()) return fail(info.error());
  if (info->buildId != BuildId())
    return fail(Error::Unavailable("the node on " + req.name + " runs build " + info->buildId +
                                   ", not this controller's " + BuildId()));
  h->record.nodeBuild = info->buildId;
  h->driver = DriverFor(h);
  h->record.lastSeen = NowMillis();
  h->storedSeen = h->record.lastSeen;
  if (auto s = store_->AddHost(h->record); !s.ok()) return fail(s.error());
  h->reachable = true;
  h->tried = true;
  h->nodeLastgood = {info->version, info->buildId, info->commit};
  h->instances = info->instances;
  h->confinement = info->confinement;
  h->confinementDetail = info->confinementDetail;
  std::lock_guard lock(mu_);
  hosts_[req.name] = h;
  return ViewOf(*h);
}

Status Fleet::Remove(const std::string& name, bool drain) {
  std::shared_ptr<Host> h;
  {
    std::lock_guard lock(mu_);
    auto it = hosts_.find(name);
    if (it == hosts_.end()) return Error::NotFound("no host named " + name);
    h = it->second;
  }
  auto instances = h->node->Instances();
  if (instances.ok() && !instances->empty()) {
    if (!drain) {
      return Error::Conflict("host " + name + " runs " + std::to_string(instances->size()) +
                             " instance(s) (" + (*instances)[0].spec.id +
                             (instances->size() > 1 ? ", …" : "") +
                             "); pass --drain to stop them first");
    }
    RoutingTable empty;
    empty.generation = static_cast<uint64_t>(NowMillis()) * 1000;
    LG_RETURN_IF_ERROR(h->node->ApplyTable(empty));
    for (const auto& inst : *instances) LG_RETURN_IF_ERROR(h->node->Stop(inst.spec.id));
  } else if (!instances.ok() && drain) {
    return Error::Unavailable("cannot drain host " + name + ": " + instances.error().message);
  }
  LG_RETURN_IF_ERROR(store_->RemoveHost(name));
  h->link->Close();
  std::lock_guard lock(mu_);
  hosts_.erase(name);
  return Status::Ok();
}

Result<std::vector<HostView>> Fleet::List() {
  std::lock_guard lock(mu_);
  std::vector<HostView> out;
  for (const auto& [name, h] : hosts_) out.push_back(ViewOf(*h));
  return out;
}

std::shared_ptr<const NodeClient> Fleet::Node(const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = hosts_.find(name);
  return it == hosts_.end() ? nullptr : it->second->node;
}

}  // namespace lastgood
