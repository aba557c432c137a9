// RunSandboxInit: the mounts, the program as pid 2, then a sigwaitinfo loop. Plain system
// calls: it runs before main(), alone in its process.
#include "process/sandbox_init.h"

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "process/spawn.h"

namespace lastgood {
namespace {

constexpr size_t kMaxLaunchBytes = 8 << 20;
// Signals the init passes on to the program's process group; the rest it keeps to itself.
constexpr int kForwarded[] = {SIGTERM, SIGINT,  SIGHUP,   SIGQUIT, SIGUSR1,
                              SIGUSR2, SIGCONT, SIGWINCH, SIGALRM, SIGTSTP};

void PutString(std::string* out, const std::string& s) {
  *out += std::to_string(s.size()) + ":" + s;
}
void PutList(std::string* out, const std::vector<std::string>& list) {
  *out += std::to_string(list.size()) + ":";
  for (const auto& s : list) PutString(out, s);
}

class Reader {
 public:
  explicit Reader(const std::string& bytes) : bytes_(bytes) {}
  bool Number(size_t* n) {
    size_t colon = bytes_.find(':', at_);
    if (colon == std::string::npos || colon == at_ || colon - at_ > 12) return false;
    *n = 0;
    for (size_t i = at_; i < colon; ++i) {
      if (bytes_[i] < '0' || bytes_[i] > '9') return false;
      *n = *n * 10 + static_cast<size_t>(bytes_[i] - '0');
    }
    at_ = colon + 1;
    return true;
  }
  bool String(std::string* s) {
    size_t n;
    if (!Number(&n) || n > bytes_.size() - at_) return false;
    *s = bytes_.substr(at_, n);
    at_ += n;
    return true;
  }
  bool List(std::vector<std::string>* list) {
    size_t n;
    if (!Number(&n) || n > bytes_.size()) return false;
    list->resize(n);
    for (auto& s : *list) {
      if (!String(&s)) return false;
    }
    return true;
  }
  bool Done() const { return at_ == bytes_.size(); }

 private:
  const std::string& bytes_;
  size_t at_ = 0;
};

// What the init reports to Spawn when the program could not be started.
[[noreturn]] void Report(SpawnStage stage, int err, const std::string& what) {
  SandboxReport r{};
  r.stage = static_cast<int>(stage);
  r.err = err;
  std::strncpy(r.what, what.c_str(), sizeof r.what - 1);
  ssize_t ignored = write(kSandboxReportFd, &r, sizeof r);
  (void)ignored;
  _exit(127);
}

[[noreturn]] void Fail(const std::string& what) { Report(SpawnStage::kSetup, errno, what); }

bool Inside(const std::string& path, const std::string& dir) {
  return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
         (dir.back() == '/' || path[dir.size()] == '/');
}

void MakeDirs(const std::string& path) {
  for (size_t slash = path.find('/', 1);; slash = path.find('/', slash + 1)) {
    std::string part = path.substr(0, slash);
    if (mkdir(part.c_str(), 0755) != 0 && errno != EEXIST) Fail("creating " + part);
    if (slash == std::string::npos) break;
  }
}

// Makes the mount at `path` read-only (and nosuid, nodev), keeping the flags it already has:
// in a user namespace, a flag the mount was locked with cannot be dropped.
void RemountReadOnly(const std::string& path, unsigned long extra = 0) {
  struct statvfs st;
  if (statvfs(path.c_str(), &st) != 0) Fail("reading the flags of " + path);
  unsigned long flags = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | extra;
  if (st.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
  if (st.f_flag & ST_NOATIME) flags |= MS_NOATIME;
  if (st.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
  if (st.f_flag & ST_RELATIME) flags |= MS_RELATIME;
  if (mount(nullptr, path.c_str(), nullptr, flags, nullptr) != 0) Fail("remounting " + path);
}

void Bind(int source_fd, const std::string& target, bool read_only) {
  MakeDirs(target);
  std::string source = "/proc/self/fd/" + std::to_string(source_fd);
  if (mount(source.c_str(), target.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
    Fail("binding " + target);
  }
  if (read_only) RemountReadOnly(target);
}

// The lastgood home (and the rest of `hidden`) becomes an empty read-only folder with the
// program's own folders bound back; a fresh /proc shows only this pid namespace.
void MakeMounts(const Sandbox& s) {
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) Fail("making / private");
  // The folders to bind back, opened before the folders that hold them are covered.
  std::vector<std::pair<int, std::pair<std::string, bool>>> binds;
  for (const auto* list : {&s.read_only, &s.writable}) {
    for (const auto& dir : *list) {
      int fd = open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0) Fail("opening " + dir);
      binds.push_back({fd, {dir, list == &s.read_only}});
    }
  }
  std::vector<std::string> hidden = s.hidden;
  std::sort(hidden.begin(), hidden.end());  // a folder before the folders inside it
  std::vector<std::string> covered;
  for (const auto& dir : hidden) {
    bool already = std::any_of(covered.begin(), covered.end(),
                               [&](const std::string& c) { return c == dir || Inside(dir, c); });
    if (already) continue;
    if (mount("tmpfs", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
              "mode=0755,size=1m") != 0) {
      Fail("covering " + dir);
    }
    covered.push_back(dir);
  }
  for (const auto& [fd, bind] : binds) {
    Bind(fd, bind.first, bind.second);
    close(fd);
  }
  for (const auto& dir : covered) RemountReadOnly(dir, MS_NOEXEC);
  for (const auto& file : s.hidden_files) {
    bool already = std::any_of(covered.begin(), covered.end(),
                               [&](const std::string& c) { return Inside(file, c); });
    struct stat st;
    if (already || stat(file.c_str(), &st) != 0) continue;
    if (mount("/dev/null", file.c_str(), nullptr, MS_BIND, nullptr) != 0) Fail("hiding " + file);
    RemountReadOnly(file);
  }
  if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
    Fail("mounting a /proc of its own");
  }
}

bool WriteFile(const char* path, const std::string& text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  close(fd);
  return ok;
}

// In the program's child, before execve: its own identity, no way back to privileges.
void BecomeTheProgram(const Sandbox& s, int report_fd) {
  auto fail = [report_fd](SpawnStage stage, const std::string& what) {
    SandboxReport r{};
    r.stage = static_cast<int>(stage);
    r.err = errno;
    std::strncpy(r.what, what.c_str(), sizeof r.what - 1);
    ssize_t ignored = write(report_fd, &r, sizeof r);
    (void)ignored;
    _exit(127);
  };
  setpgid(0, 0);
  if (s.kind == Sandbox::Kind::kUserNamespace) {
    // A user namespace of its own, and with it a copy of the mount namespace in which every
    // mount made above is locked: the program may be root of nothing that can undo them.
    if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) fail(SpawnStage::kSetup, "unshare");
    std::string uid = std::to_string(s.uid), gid = std::to_string(s.gid);
    if (!WriteFile("/proc/self/setgroups", "deny") ||
        !WriteFile("/proc/self/uid_map", uid + " 0 1\n") ||
        !WriteFile("/proc/self/gid_map", gid + " 0 1\n")) {
      fail(SpawnStage::kSetup, "mapping its user");
    }
  } else {
    if (setgroups(0, nullptr) != 0 || setresgid(s.gid, s.gid, s.gid) != 0 ||
        setresuid(s.uid, s.uid, s.uid) != 0) {
      fail(SpawnStage::kSetup, "becoming uid " + std::to_string(s.uid));
    }
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail(SpawnStage::kSetup, "no_new_privs");
}

}  // namespace

std::string EncodeSandboxLaunch(const SandboxLaunch& l) {
  std::string out;
  const Sandbox& s = l.sandbox;
  PutString(&out, std::to_string(static_cast<int>(s.kind)));
  PutString(&out, std::to_string(s.uid));
  PutString(&out, std::to_string(s.gid));
  PutList(&out, s.hidden);
  PutList(&out, s.hidden_files);
  PutList(&out, s.read_only);
  PutList(&out, s.writable);
  PutString(&out, s.state_dir);
  PutString(&out, s.label);
  PutString(&out, l.exec_path);
  PutList(&out, l.argv);
  PutList(&out, l.env);
  PutString(&out, l.cwd);
  return out;
}

std::optional<SandboxLaunch> DecodeSandboxLaunch(const std::string& bytes) {
  SandboxLaunch l;
  Sandbox& s = l.sandbox;
  Reader r(bytes);
  std::string kind, uid, gid;
  if (!r.String(&kind) || !r.String(&uid) || !r.String(&gid) || !r.List(&s.hidden) ||
      !r.List(&s.hidden_files) || !r.List(&s.read_only) || !r.List(&s.writable) ||
      !r.String(&s.state_dir) || !r.String(&s.label) || !r.String(&l.exec_path) ||
      !r.List(&l.argv) || !r.List(&l.env) || !r.String(&l.cwd) || !r.Done()) {
    return std::nullopt;
  }
  if (kind != "1" && kind != "2") return std::nullopt;
  s.kind = kind == "1" ? Sandbox::Kind::kAppUser : Sandbox::Kind::kUserNamespace;
  s.uid = static_cast<unsigned>(std::strtoul(uid.c_str(), nullptr, 10));
  s.gid = static_cast<unsigned>(std::strtoul(gid.c_str(), nullptr, 10));
  if (l.argv.empty() || l.exec_path.empty()) return std::nullopt;
  return l;
}

void RunSandboxInit() {
  // Not dumpable: without root the program has our uid. It is already kept from ptracing its
  // init (the one process that may change the mounts of its namespace) because it lives in
  // a nested user namespace; this keeps it so should that ever change.
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, nullptr);
  fcntl(kSandboxReportFd, F_SETFD, FD_CLOEXEC);
  std::string bytes;
  char buf[65536];
  for (ssize_t n; (n = read(kSandboxSpecFd, buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || bytes.size() + static_cast<size_t>(n) > kMaxLaunchBytes) Fail("reading its spec");
    bytes.append(buf, static_cast<size_t>(n));
  }
  close(kSandboxSpecFd);
  std::optional<SandboxLaunch> launch = DecodeSandboxLaunch(bytes);
  if (!launch) {
    errno = EINVAL;
    Fail("reading its spec");
  }
  MakeMounts(launch->sandbox);
  if (chdir(launch->cwd.empty() ? "/" : launch->cwd.c_str()) != 0) {
    Report(SpawnStage::kCwd, errno, launch->cwd);
  }

  std::vector<char*> argv, envp;
  for (auto& a : launch->argv) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : launch->env) envp.push_back(e.data());
  envp.push_back(nullptr);
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) Fail("pipe");
  pid_t program = fork();
  if (program < 0) Fail("fork");
  if (program == 0) {
    close(pipe_fds[0]);
    BecomeTheProgram(launch->sandbox, pipe_fds[1]);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execve(launch->exec_path.c_str(), argv.data(), envp.data());
    SandboxReport r{};
    r.stage = static_cast<int>(SpawnStage::kExec);
    r.err = errno;
    ssize_t ignored = write(pipe_fds[1], &r, sizeof r);
    (void)ignored;
    _exit(127);
  }
  close(pipe_fds[1]);
  SandboxReport report{};
  ssize_t n;
  do {
    n = read(pipe_fds[0], &report, sizeof report);
  } while (n < 0 && errno == EINTR);
  close(pipe_fds[0]);
  if (n > 0) {
    ssize_t ignored = write(kSandboxReportFd, &report, sizeof report);
    (void)ignored;
    _exit(127);
  }
  close(kSandboxReportFd);  // end of file: the program runs

  for (;;) {
    siginfo_t info;
    int sig = sigwaitinfo(&all, &info);
    if (sig < 0) continue;
    if (sig == SIGCHLD) {
      int status;
      for (pid_t done; (done = waitpid(-1, &status, WNOHANG)) > 0;) {
        if (done != program) continue;
        _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
      }
      continue;
    }
    if (std::find(std::begin(kForwarded), std::end(kForwarded), sig) != std::end(kForwarded)) {
      if (kill(-program, sig) != 0) kill(program, sig);
    }
  }
}

namespace {

// Before main() of any binary linking this module: the re-executed init never reaches it.
// glibc passes argc and argv to constructors of the main program.
__attribute__((constructor(101))) void EnterSandboxInit(int argc, char** argv, char**) {
  if (argc >= 2 && argv[1] != nullptr && std::strcmp(argv[1], kSandboxInitFlag) == 0) {
    RunSandboxInit();
  }
}

}  // namespace
}  // namespace lastgood
