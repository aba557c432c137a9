#include "artifacts/tar.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <vector>

#include "process/spawn.h"

namespace lastgood {
namespace {

constexpr const char* kTar = "/usr/bin/tar";
constexpr size_t kMaxListingBytes = 16 << 20;  // names of members; more is refused
constexpr size_t kMaxStderrBytes = 4096;

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

struct ToolRun {
  int status = 0;
  std::string out;
  std::string err;
  bool out_truncated = false;
  uint64_t out_bytes = 0;  // all of stdout, kept or not
  bool stopped = false;    // killed for passing count_limit
};

// Runs argv with stdout and stderr captured (bounded); returns its wait status. With
// `count_limit`, stdout is only counted (not kept), and the tool is killed once it passes
// the limit.
Result<ToolRun> RunTool(const std::vector<std::string>& args, const TarWatch& watch,
                        uint64_t count_limit = 0) {
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0)
    return Error::Internal(std::string("pipe: ") + strerror(errno));
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    return Error::Internal(std::string("pipe: ") + strerror(errno));
  }
  SpawnSpec spawn;
  spawn.exec_path = args[0];
  spawn.argv = args;
  spawn.env = {"PATH=/usr/bin:/bin", "LC_ALL=C"};
  spawn.in = Stdio::Null();
  spawn.out = Stdio::Fd(out_pipe[1]);
  spawn.err = Stdio::Fd(err_pipe[1]);
  Result<int> started = Spawn(spawn);
  close(out_pipe[1]);
  close(err_pipe[1]);
  int pid = started.ok() ? *started : -1;
  ToolRun run;
  if (started.ok()) {
    if (watch.started) watch.started(pid);
    pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    std::string* sinks[2] = {&run.out, &run.err};
    const size_t limits[2] = {kMaxListingBytes, kMaxStderrBytes};
    int open_fds = 2;
    while (open_fds > 0) {
      if (poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        break;
      }
      for (int i = 0; i < 2; ++i) {
        if (fds[i].fd < 0 || fds[i].revents == 0) continue;
        char buf[8192];
        ssize_t n = read(fds[i].fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
          close(fds[i].fd);
          fds[i].fd = -1;
          --open_fds;
          continue;
        }
        if (i == 0) run.out_bytes += static_cast<uint64_t>(n);
        if (i == 0 && count_limit > 0) {
          if (run.out_bytes > count_limit && !run.stopped) {
            run.stopped = true;
            kill(pid, SIGKILL);
          }
          continue;
        }
        size_t room = limits[i] - std::min(limits[i], sinks[i]->size());
        sinks[i]->append(buf, std::min(room, static_cast<size_t>(n)));
        if (i == 0 && static_cast<size_t>(n) > room) run.out_truncated = true;
      }
    }
    for (auto& p : fds) {
      if (p.fd >= 0) close(p.fd);
    }
    while (waitpid(pid, &run.status, 0) < 0 && errno == EINTR) {
    }
    if (watch.ended) watch.ended(pid);
  } else {
    close(out_pipe[0]);
    close(err_pipe[0]);
    return Error::Internal(std::string(kTar) + ": " + started.error().message);
  }
  return run;
}

std::string FirstLine(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  return line.empty() ? "" : ": " + line;
}

// A member name that would land outside the release directory.
bool Escapes(const std::string& member) {
  if (!member.empty() && member[0] == '/') return true;
  std::stringstream parts(member);
  std::string part;
  while (std::getline(parts, part, '/')) {
    if (part == "..") return true;
  }
  return false;
}

// The member's path without "./" components and trailing '/': "./a//b/" → "a/b".
std::string Normalized(const std::string& member) {
  std::stringstream parts(member);
  std::string part, out;
  while (std::getline(parts, part, '/')) {
    if (part.empty() || part == ".") continue;
    out += (out.empty() ? "" : "/") + part;
  }
  return out;
}

// Whether the tool was killed by someone else (a rollback taking over), not by us.
bool KilledFromOutside(const ToolRun& run) {
  return WIFSIGNALED(run.status) && WTERMSIG(run.status) == SIGKILL && !run.stopped;
}

Error Interrupted(const std::string& name) {
  return Error::Unavailable("unpacking artifact '" + name +
                            "' was stopped: another deployment of the app took over");
}

}  // namespace

bool IsTarName(const std::string& name) {
  return EndsWith(name, ".tar") || EndsWith(name, ".tar.gz") || EndsWith(name, ".tgz");
}

Status CheckTarSize(const std::string& archive, const std::string& name, const TarWatch& watch) {
  if (watch.maxBytes == 0) return Status::Ok();
  // Every file's contents, to stdout, counted and thrown away: what extraction would write.
  // (Whether the archive reads cleanly is the listing's business: -x complains of members
  // it would place elsewhere, which the listing refuses by name.)
  Result<ToolRun> count = RunTool({kTar, "-xOf", archive}, watch, watch.maxBytes);
  if (!count.ok()) return count.error();
  if (count->stopped) {
    return Error::InvalidInput("artifact '" + name + "' unpacks to more than " + watch.limitText +
                               "; nothing was unpacked");
  }
  if (KilledFromOutside(*count)) return Interrupted(name);
  return Status::Ok();
}

Status CheckTar(const std::string& archive, const std::string& name, const std::string& reserved,
                const TarWatch& watch) {
  Result<ToolRun> listing = RunTool({kTar, "-tf", archive}, watch);
  if (!listing.ok()) return listing.error();
  if (KilledFromOutside(*listing)) return Interrupted(name);
  if (!WIFEXITED(listing->status) || WEXITSTATUS(listing->status) != 0) {
    return Error::InvalidInput("artifact '" + name + "' is not a readable tar archive" +
                               FirstLine(listing->err));
  }
  if (listing->out_truncated) {
    return Error::InvalidInput("artifact '" + name + "' lists more than " +
                               std::to_string(kMaxListingBytes >> 20) + " MiB of member names");
  }
  std::stringstream members(listing->out);
  std::string member;
  while (std::getline(members, member)) {
    if (Escapes(member)) {
      return Error::InvalidInput("artifact '" + name + "' has a member outside its directory: '" +
                                 member + "'");
    }
    if (Normalized(member) == reserved) {
      return Error::InvalidInput("artifact '" + name + "' has a member named '" + reserved +
                                 "', which lastgood writes itself");
    }
  }
  return CheckTarSize(archive, name, watch);
}

Status ExtractTar(const std::string& archive, const std::string& dir, const std::string& name,
                  const std::string& reserved, const TarWatch& watch) {
  LG_RETURN_IF_ERROR(CheckTar(archive, name, reserved, watch));
  Result<ToolRun> extract = RunTool({kTar, "-xf", archive, "-C", dir, "--no-same-owner"}, watch);
  if (!extract.ok()) return extract.error();
  if (KilledFromOutside(*extract)) return Interrupted(name);
  if (!WIFEXITED(extract->status) || WEXITSTATUS(extract->status) != 0) {
    return Error::Failed("extracting artifact '" + name + "' failed" + FirstLine(extract->err));
  }
  return Status::Ok();
}

}  // namespace lastgood
