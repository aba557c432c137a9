#include "process/confinement.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>

#include "base/fd.h"
#include "process/child.h"
#include "process/spawn.h"

namespace lastgood {
namespace {

namespace fs = std::filesystem;

std::string UserName(uid_t uid) {
  passwd entry{}, *found = nullptr;
  char buf[4096];
  if (getpwuid_r(uid, &entry, buf, sizeof buf, &found) == 0 && found != nullptr) {
    return found->pw_name;
  }
  return "uid " + std::to_string(uid);
}

struct User {
  uid_t uid;
  gid_t gid;
};
std::optional<User> LookUp(const std::string& name) {
  passwd entry{}, *found = nullptr;
  char buf[4096];
  if (getpwnam_r(name.c_str(), &entry, buf, sizeof buf, &found) != 0 || found == nullptr) {
    return std::nullopt;
  }
  return User{found->pw_uid, found->pw_gid};
}

// The controller user's own $HOME, hidden too when not root: the app runs as that user.
std::string UserHome() {
  const char* home = std::getenv("HOME");
  if (home == nullptr || home[0] != '/' || std::string(home) == "/") return "";
  std::error_code ec;
  std::string canonical = fs::canonical(home, ec).string();
  return ec || canonical == "/" || !fs::is_directory(canonical, ec) ? "" : canonical;
}

std::string Canonical(const std::string& path) {
  std::error_code ec;
  std::string c = fs::weakly_canonical(path, ec).string();
  return ec ? path : c;
}

// uids that some process runs as right now (another controller's apps, for one).
std::set<uid_t> UidsInUse() {
  std::set<uid_t> in_use;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    struct stat st;
    if (stat(e.path().c_str(), &st) == 0) in_use.insert(st.st_uid);
  }
  return in_use;
}

// Makes `dir` (and its parents) and gives it to uid/gid, recursively when it belonged to
// another uid (the app changed run.user): its files must stay its own.
Status MakeOwnedDir(const std::string& dir, uid_t uid, gid_t gid, bool chown_needed) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Error::Internal("cannot create '" + dir + "': " + ec.message());
  chmod(dir.c_str(), 0700);
  if (!chown_needed) return Status::Ok();
  struct stat st;
  if (lstat(dir.c_str(), &st) != 0) return Error::Internal("cannot stat '" + dir + "'");
  if (st.st_uid == uid && st.st_gid == gid) return Status::Ok();
  if (lchown(dir.c_str(), uid, gid) != 0) {
    return Error::Internal("cannot give '" + dir + "' to uid " + std::to_string(uid) + ": " +
                           strerror(errno));
  }
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    lchown(it->path().c_str(), uid, gid);
  }
  return Status::Ok();
}

// Whether a sandbox of this kind can start a program here: the kernel may refuse namespaces
// (a container without CAP_SYS_ADMIN, unprivileged user namespaces turned off).
Status Try(Sandbox::Kind kind, const std::string& home) {
  SpawnSpec s;
  s.exec_path = "/bin/true";
  s.argv = {"true"};
  s.sandbox.kind = kind;
  s.sandbox.uid = kind == Sandbox::Kind::kAppUser ? 65534 : getuid();
  s.sandbox.gid = kind == Sandbox::Kind::kAppUser ? 65534 : getgid();
  s.sandbox.hidden = {home};
  s.sandbox.label = "confinement check";
  Result<int> pid = Spawn(s);
  if (!pid.ok()) return pid.error();
  int status = Child(*pid).Reap();
  if (status != 0)
    return Error::Internal("a confined /bin/true ended with status " + std::to_string(status));
  return Status::Ok();
}

}  // namespace

std::unique_ptr<Confinement> Confinement::Detect(const ConfinementOptions& options) {
  Sandbox::Kind kind = geteuid() == 0 ? Sandbox::Kind::kAppUser : Sandbox::Kind::kUserNamespace;
  Status tried = Try(kind, Canonical(options.home));
  if (tried.ok()) return std::make_unique<Confinement>(options, kind);
  std::string reason =
      (kind == Sandbox::Kind::kAppUser ? "the kernel refused new mount and pid namespaces: "
                                       : "the kernel refused an unprivileged user namespace: ") +
      tried.error().message;
  return std::make_unique<Confinement>(options, Sandbox::Kind::kNone, reason);
}

Confinement::Confinement(ConfinementOptions options, Sandbox::Kind kind, std::string reason)
    : options_([&] {
        options.home = Canonical(options.home);
        for (auto& f : options.hidden_files) f = Canonical(f);
        return options;
      }()),
      kind_(kind),
      reason_(std::move(reason)) {}

std::string Confinement::Mode() const {
  switch (kind_) {
    case Sandbox::Kind::kAppUser:
      return "app-users";
    case Sandbox::Kind::kUserNamespace:
      return "user-namespaces";
    default:
      return "none";
  }
}

std::string Confinement::Describe() const {
  switch (kind_) {
    case Sandbox::Kind::kAppUser:
      return "app-users: each app runs as a uid of its own (from " + std::to_string(kAppUidFirst) +
             ", or its run.user) in pid and mount namespaces of its own that hide the home";
    case Sandbox::Kind::kUserNamespace: {
      std::string home = UserHome();
      return "user-namespaces: apps run as " + UserName(getuid()) +
             " in user, pid and mount namespaces of their own that hide the home" +
             (home.empty() ? "" : " and " + home);
    }
    default:
      return "NONE: deployed code runs as " + UserName(geteuid()) +
             ", unconfined, and can read the home, the store and the API socket (" + reason_ + ")";
  }
}

Status Confinement::CheckRunUser(const std::string& run_user) const {
  if (run_user.empty()) return Status::Ok();
  std::optional<User> user = LookUp(run_user);
  if (!user) {
    return Error::InvalidInput(
        "run.user '" + run_user + "' is not a user of this " + (options_.node ? "host" : "machine"),
        "run.user");
  }
  if (user->uid == 0) return Error::InvalidInput("run.user may not be root", "run.user");
  if (kind_ != Sandbox::Kind::kAppUser) {
    if (user->uid == geteuid()) return Status::Ok();
    if (options_.node) {
      return Error::InvalidInput("run.user '" + run_user + "': this node runs as " +
                                     UserName(geteuid()) + " with confinement " + Mode() +
                                     " and can run an app as another user only as root with "
                                     "app-users",
                                 "run.user");
    }
    return Error::InvalidInput("run.user '" + run_user + "': the controller runs as " +
                                   UserName(geteuid()) +
                                   ", not as root, and cannot run an app as another user",
                               "run.user");
  }
  if (options_.node) return Status::Ok();
  return CheckRunUserAllowed(run_user);
}

Status Confinement::CheckRunUserAllowed(const std::string& run_user) const {
  if (run_user.empty()) return Status::Ok();
  if (run_user == "root") return Error::InvalidInput("run.user may not be root", "run.user");
  const auto& allowed = options_.run_users;
  if (std::find(allowed.begin(), allowed.end(), run_user) == allowed.end()) {
    return Error::InvalidInput("run.user '" + run_user +
                                   "' is not allowed here: an admin allows it with "
                                   "`lastgood serve --run-users " +
                                   run_user + "`",
                               "run.user");
  }
  return Status::Ok();
}

void Confinement::LoadUids() {
  if (uids_loaded_) return;
  std::string registry = options_.home + "/uids";
  std::error_code ec;
  fs::create_directories(registry, ec);
  chmod(registry.c_str(), 0700);
  for (const auto& e : fs::directory_iterator(registry, ec)) {
    std::ifstream in(e.path());
    std::string name;
    std::getline(in, name);
    unsigned long uid = std::strtoul(e.path().filename().c_str(), nullptr, 10);
    if (!name.empty() && uid >= kAppUidFirst && uid < kAppUidFirst + kAppUidCount) {
      uids_[name] = static_cast<unsigned>(uid);
    }
  }
  uids_loaded_ = true;
}

std::string Confinement::RunsAs(const std::string& app, const std::string& run_user) {
  if (kind_ != Sandbox::Kind::kAppUser) return UserName(geteuid());
  if (!run_user.empty()) return run_user;
  std::lock_guard lock(mu_);
  LoadUids();
  auto it = uids_.find(app);
  return it == uids_.end() ? "its own uid, given at its first start"
                           : "uid " + std::to_string(it->second);
}

Result<unsigned> Confinement::AppUid(const std::string& app) {
  std::string registry = options_.home + "/uids";
  LoadUids();
  if (auto it = uids_.find(app); it != uids_.end()) return it->second;

  // Start where this home and app hash to, so that two homes on one machine rarely meet;
  // skip uids that have a user, a process, or belong to another app of this home.
  uint64_t hash = 1469598103934665603ULL;
  for (char c : options_.home + "/" + app)
    hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  std::set<uid_t> in_use = UidsInUse();
  for (unsigned i = 0; i < kAppUidCount; ++i) {
    unsigned uid = kAppUidFirst + static_cast<unsigned>((hash + i) % kAppUidCount);
    if (in_use.count(uid)) continue;
    passwd entry{}, *found = nullptr;
    char buf[4096];
    if (getpwuid_r(uid, &entry, buf, sizeof buf, &found) == 0 && found != nullptr) continue;
    std::string path = registry + "/" + std::to_string(uid);
    Fd fd(open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (fd.get() < 0) {
      if (errno == EEXIST) continue;
      return Error::Internal("cannot record a uid for " + app + " in '" + registry +
                             "': " + strerror(errno));
    }
    std::string line = app + "\n";
    if (write(fd.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size()) ||
        fsync(fd.get()) != 0) {
      unlink(path.c_str());
      return Error::Internal("cannot record a uid for " + app + ": " + strerror(errno));
    }
    uids_[app] = uid;
    return uid;
  }
  return Error::Unavailable("no free uid left for " + app + " in " + std::to_string(kAppUidFirst) +
                            ".." + std::to_string(kAppUidFirst + kAppUidCount - 1));
}

Result<Sandbox> Confinement::For(const std::string& app, const std::string& run_user,
                                 const std::string& release_dir, const std::string& label) {
  Sandbox s;
  s.kind = kind_;
  s.label = label;
  s.state_dir = StateDir(app);
  if (kind_ == Sandbox::Kind::kAppUser) {
    if (!run_user.empty()) {
      LG_RETURN_IF_ERROR(CheckRunUser(run_user));
      std::optional<User> user = LookUp(run_user);
      s.uid = user->uid;
      s.gid = user->gid;
    } else {
      std::lock_guard lock(mu_);
      Result<unsigned> uid = AppUid(app);
      if (!uid.ok()) return uid.error();
      s.uid = s.gid = *uid;
    }
  } else {
    s.uid = getuid();
    s.gid = getgid();
  }
  LG_RETURN_IF_ERROR(MakeOwnedDir(s.state_dir, s.uid, s.gid, kind_ == Sandbox::Kind::kAppUser));
  if (kind_ == Sandbox::Kind::kNone) return s;
  s.hidden = {options_.home};
  if (kind_ == Sandbox::Kind::kUserNamespace) {
    if (std::string home = UserHome(); !home.empty()) s.hidden.push_back(home);
  }
  s.hidden_files = options_.hidden_files;
  s.read_only = {Canonical(release_dir)};
  s.writable = {Canonical(s.state_dir)};
  return s;
}

}  // namespace lastgood
