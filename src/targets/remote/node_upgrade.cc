#include "targets/remote/node_upgrade.h"

#include <cctype>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

namespace lastgood {
namespace {

// A node that cannot take its home's lock exits with this (node_main.cc): the old node has
// stopped answering but has not exited yet.
constexpr int kNodeLockHeld = 3;
constexpr Millis kNodeExitPoll{50};
// A node must answer this quickly while its upgrade watches it.
constexpr Millis kUpgradeInfoTimeout{3'000};

std::string Words(const CommandResult& r) {
  std::string out = r.output;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  if (r.exitCode < 0) return "timed out or killed" + (out.empty() ? "" : ": " + out);
  return "exit " + std::to_string(r.exitCode) + (out.empty() ? "" : ": " + out);
}

std::string Short(const std::string& build) {
  return build.empty() ? "unknown" : build.substr(0, 12);
}

Millis ElapsedSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - start);
}

std::string Bin(const std::string& node_home) { return node_home + "/bin"; }

// The build id the binary at `path` on the host says it is, or why it says none.
Result<std::string> BuildOf(NodeHost* host, const std::string& path) {
  CommandResult r = host->Run({path, "version", "-o", "json"}, "", kHostCommandTimeout);
  if (r.exitCode != 0) return Error::Unavailable(Words(r));
  // The JSON object is the end of the output (printed on several lines); whatever the remote
  // shell's startup files print comes before it.
  size_t at = r.output.rfind("\n{");
  at = at == std::string::npos ? 0 : at + 1;
  auto j = nlohmann::json::parse(r.output.substr(at), nullptr, false);
  if (!j.is_object() || !j.contains("buildId") || !j["buildId"].is_string())
    return Error::Unavailable("it answered `version -o json` with '" + r.output.substr(at, 200) +
                              "'");
  return j["buildId"].get<std::string>();
}

// Runs the node at `binary` detached; retries while an old node still holds the home's lock.
CommandResult StartDetached(NodeHost* host, const std::string& binary,
                            const std::string& node_home) {
  auto deadline = std::chrono::steady_clock::now() + kNodeExitWait;
  for (;;) {
    CommandResult r =
        host->Run({binary, "node", "--home", node_home, "--detach"}, "", kHostCommandTimeout);
    if (r.exitCode != kNodeLockHeld || std::chrono::steady_clock::now() >= deadline) return r;
    host->Sleep(kNodeExitPoll);
  }
}

// DIR/bin/lastgood becomes a symlink to `file` (a name in DIR/bin), by a rename: whoever
// runs it sees the old or the new build, never a missing file.
Status Point(NodeHost* host, const std::string& name, const std::string& node_home,
             const std::string& file) {
  CommandResult r =
      host->Run({"sh", "-c", "ln -sfn \"$1\" \"$2\" && mv -fT \"$2\" \"$3\"", "lastgood-point",
                 file, Bin(node_home) + "/.lastgood.link", Bin(node_home) + "/lastgood"},
                "", kHostCommandTimeout);
  if (r.exitCode != 0)
    return Error::Unavailable("cannot point " + Bin(node_home) + "/lastgood at " + file + " on " +
                              name + ": " + Words(r));
  return Status::Ok();
}

// Removes the binaries of DIR/bin other than `keep` and `previous` (the build to go back to).
void Prune(NodeHost* host, const std::string& node_home, const std::string& keep,
           const std::string& previous) {
  (void)host->Run({"sh", "-c",
                   "cd \"$1\" || exit 0; for f in lastgood-*; do "
                   "[ \"$f\" = \"$2\" ] || [ \"$f\" = \"$3\" ] || rm -f -- \"$f\"; done",
                   "lastgood-prune", Bin(node_home), keep, previous},
                  "", kHostCommandTimeout);
}

std::string FileName(const std::string& path) { return path.substr(path.rfind('/') + 1); }

// The file the running node was started from; DIR/bin/lastgood when it cannot be told (a
// file replaced since reads "… (deleted)").
std::string RunningBinary(NodeHost* host, const std::string& node_home, int pid) {
  const std::string fallback = Bin(node_home) + "/lastgood";
  if (pid <= 0) return fallback;
  CommandResult r =
      host->Run({"readlink", "/proc/" + std::to_string(pid) + "/exe"}, "", kHostCommandTimeout);
  std::string exe = CommandAnswer(r.output);
  if (r.exitCode != 0 || exe.empty() || exe[0] != '/' ||
      exe.find(" (deleted)") != std::string::npos)
    return fallback;
  return exe;
}

}  // namespace

Result<NodeInfo> SshNodeHost::Info() { return node_->Info(kUpgradeInfoTimeout); }
Result<RouterHealth> SshNodeHost::RouterHealthOf() { return node_->Health(); }
Status SshNodeHost::StopNode() { return node_->StopNode(); }
void SshNodeHost::Sleep(Millis d) { std::this_thread::sleep_for(d); }

CommandResult SshNodeHost::Run(const std::vector<std::string>& argv, const std::string& stdin_path,
                               Millis timeout) {
  if (stdin_path.empty() || copies_ == nullptr) return link_->Run(argv, stdin_path, timeout);
  copies_->Acquire();
  CommandResult r = link_->Run(argv, stdin_path, timeout);
  copies_->Release();
  return r;
}

std::string NodeBinaryPath(const std::string& node_home, const std::string& build_id) {
  std::string safe;
  for (char c : build_id.substr(0, 64))
    safe += std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' ? c : '_';
  return Bin(node_home) + "/lastgood-" + (safe.empty() ? "unknown" : safe);
}

Status InstallNodeBinary(NodeHost* host, const std::string& name, const std::string& node_home,
                         const NodeBinary& binary, bool* copied) {
  *copied = false;
  const std::string path = NodeBinaryPath(node_home, binary.buildId);
  auto there = BuildOf(host, path);
  if (there.ok() && *there == binary.buildId) return Status::Ok();
  CommandResult mk = host->Run({"mkdir", "-p", Bin(node_home)}, "", kHostCommandTimeout);
  if (mk.exitCode != 0)
    return Error::Unavailable("cannot make " + Bin(node_home) + " on " + name + ": " + Words(mk));
  // Written under a temporary name and renamed: a file a process runs is never changed.
  CommandResult copy =
      host->Run({"sh", "-c", "cat > \"$1\" && chmod 0755 \"$1\" && mv -f \"$1\" \"$2\"",
                 "lastgood-install", path + ".tmp", path},
                binary.path, kBinaryCopyTimeout);
  if (copy.exitCode != 0)
    return Error::Unavailable("cannot copy lastgood to " + name + ": " + Words(copy));
  *copied = true;
  auto runs = BuildOf(host, path);
  if (!runs.ok())
    return Error::Unavailable("the lastgood copied to " + name + " (" + path +
                              ") does not run there: " + runs.error().message);
  if (*runs != binary.buildId)
    return Error::Unavailable("the lastgood copied to " + name + " says it is build " +
                              Short(*runs) + ", not " + Short(binary.buildId));
  return Status::Ok();
}

Status StartNode(NodeHost* host, const std::string& name, const std::string& node_home,
                 const std::string& build_id) {
  const std::string path = NodeBinaryPath(node_home, build_id);
  CommandResult start = StartDetached(host, path, node_home);
  if (start.exitCode != 0)
    return Error::Unavailable("the node on " + name + " did not start: " + Words(start));
  LG_RETURN_IF_ERROR(Point(host, name, node_home, FileName(path)));
  Prune(host, node_home, FileName(path), FileName(path));
  return Status::Ok();
}

Result<NodeUpgrade> UpgradeNode(NodeHost* host, const std::string& name,
                                const std::string& node_home, const NodeBinary& binary) {
  NodeUpgrade out;
  out.host = name;
  auto before = host->Info();
  if (!before.ok())
    return Error::Unavailable("the node on " + name + " does not answer (" +
                              before.error().message + "); `lastgood host add` starts one");
  out.from = {before->version, before->buildId, before->commit};
  if (before->buildId == binary.buildId) {
    out.to = out.from;
    auto health = host->RouterHealthOf();
    out.routerBuild = health.ok() ? health->buildId : "";
    return out;
  }
  // Everything that can fail without stopping anything comes first.
  const auto install_start = std::chrono::steady_clock::now();
  LG_RETURN_IF_ERROR(InstallNodeBinary(host, name, node_home, binary, &out.copied));
  out.install = ElapsedSince(install_start);
  const std::string old_binary = RunningBinary(host, node_home, before->pid);
  const std::string new_binary = NodeBinaryPath(node_home, binary.buildId);

  // The old node exits; its router and instances serve on without it.
  const auto stop_start = std::chrono::steady_clock::now();
  if (auto s = host->StopNode(); !s.ok())
    return Error::Unavailable("the node on " + name + " did not stop: " + s.error().message +
                              "; it serves on, of build " + Short(before->buildId));
  auto deadline = std::chrono::steady_clock::now() + kNodeExitWait;
  while (host->Info().ok() && std::chrono::steady_clock::now() < deadline)
    host->Sleep(kNodeExitPoll);

  CommandResult start = StartDetached(host, new_binary, node_home);
  if (start.exitCode != 0) {
    std::string why = "the node of build " + Short(binary.buildId) + " did not start on " + name +
                      " (" + Words(start) + "; see " + node_home + "/logs/node.log)";
    CommandResult back = StartDetached(host, old_binary, node_home);
    if (back.exitCode != 0)
      return Error::Unavailable(why + ", and the node of build " + Short(before->buildId) +
                                " did not start again either (" + Words(back) +
                                "); its router and instances serve on without a node");
    return Error::Unavailable(why + "; the node of build " + Short(before->buildId) +
                              " serves again");
  }
  auto after = host->Info();
  out.nodeAway = ElapsedSince(stop_start);
  if (!after.ok())
    return Error::Unavailable("the node of build " + Short(binary.buildId) + " started on " + name +
                              " but does not answer: " + after.error().message);
  out.to = {after->version, after->buildId, after->commit};
  if (after->buildId != binary.buildId)
    return Error::Unavailable("the node on " + name + " runs build " + Short(after->buildId) +
                              " after the upgrade, not " + Short(binary.buildId));
  out.changed = true;
  LG_RETURN_IF_ERROR(Point(host, name, node_home, FileName(new_binary)));
  // The previous build stays for a way back; older ones go.
  const bool previous_here = old_binary.rfind(Bin(node_home) + "/", 0) == 0;
  Prune(host, node_home, FileName(new_binary),
        previous_here ? FileName(old_binary) : FileName(new_binary));

  // The new node took the router over at its start (RouterProcess::Ensure); say if it did not.
  auto health = host->RouterHealthOf();
  out.routerBuild = health.ok() ? health->buildId : "";
  if (!health.ok() || health->buildId != binary.buildId)
    return Error::Unavailable(
        "the node on " + name + " runs build " + Short(binary.buildId) +
        ", but its router still runs build " +
        (health.ok() ? Short(health->buildId) : "unknown (" + health.error().message + ")") +
        ": the take-over failed (see " + node_home + "/logs/router.log); the old router serves on");
  return out;
}

}  // namespace lastgood
