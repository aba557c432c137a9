// Layout: <artifacts>/sha256/<hex> holds each artifact once, read-only (0555 if it was
// stored from an executable file, else 0444). <releases>/<app>/<version>/ is built in a
// temp directory beside it and renamed into place; the marker file, written last, says
// the directory is complete, so a crash mid-build leaves nothing that looks finished.
#include "artifacts/artifact_store.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>

#include "artifacts/sha256.h"
#include "artifacts/tar.h"
#include "base/fault.h"
#include "base/fd.h"
#include "base/names.h"

namespace lastgood {
namespace {

namespace fs = std::filesystem;

constexpr const char* kReleaseMarker = ".lastgood-release";
constexpr const char* kArtifactField = "run.artifact";

std::string Errno(const std::string& what) { return what + ": " + strerror(errno); }

void SyncDir(const std::string& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
}

Status MakeDirs(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Error::Internal("cannot create '" + dir + "': " + ec.message());
  return Status::Ok();
}

// Copies the stored object to `to` (created, mode `mode`), synced.
Status CopyObject(const std::string& from, const std::string& to, mode_t mode) {
  Fd in(open(from.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.get() < 0) return Error::Internal(Errno("cannot read '" + from + "'"));
  Fd out(open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  if (out.get() < 0) return Error::Internal(Errno("cannot create '" + to + "'"));
  Result<std::string> copied = Sha256Fd(in.get(), out.get());
  if (!copied.ok()) return copied.error();
  if (fchmod(out.get(), mode) != 0 || fsync(out.get()) != 0) {
    return Error::Internal(Errno("cannot write '" + to + "'"));
  }
  return Status::Ok();
}

Status WriteMarker(const std::string& dir, const std::string& digest, const std::string& name) {
  std::string path = dir + "/" + kReleaseMarker;
  // O_EXCL|O_NOFOLLOW: never write through something the artifact put there.
  Fd fd(open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444));
  std::string body = digest + "\n" + name + "\n";
  if (fd.get() < 0 ||
      write(fd.get(), body.data(), body.size()) != static_cast<ssize_t>(body.size()) ||
      fsync(fd.get()) != 0) {
    return Error::Internal(Errno("cannot write '" + path + "'"));
  }
  SyncDir(dir);
  return Status::Ok();
}

// The digest a complete release directory was built from, or nullopt if it is not complete.
std::optional<std::string> CompletedDigest(const std::string& dir) {
  // O_NOFOLLOW: a marker is only ever a regular file that the store wrote.
  Fd fd(open((dir + "/" + kReleaseMarker).c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (fd.get() < 0) return std::nullopt;
  char buf[256];
  ssize_t n = read(fd.get(), buf, sizeof buf);
  if (n <= 0) return std::nullopt;
  std::string text(buf, static_cast<size_t>(n));
  if (text.find('\n') == std::string::npos) return std::nullopt;
  return text.substr(0, text.find('\n'));
}

// "2 GiB", "512 MiB", "1000 bytes": a limit as people read it.
std::string Bytes(uint64_t n) {
  if (n >= (1ULL << 30) && n % (1ULL << 30) == 0) return std::to_string(n >> 30) + " GiB";
  if (n >= (1ULL << 20) && n % (1ULL << 20) == 0) return std::to_string(n >> 20) + " MiB";
  return std::to_string(n) + " bytes";
}

// The artifact at `path`, opened for reading (the caller owns the descriptor), if it is a
// regular file within the limit.
Result<int> OpenArtifact(const std::string& path, struct stat* st, const ArtifactCheck& check) {
  // O_NONBLOCK: opening a FIFO must not hang before fstat can refuse it.
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    return Error::InvalidInput(Errno("artifact '" + path + "' cannot be read"), kArtifactField);
  }
  auto refuse = [fd](Error e) -> Result<int> {
    close(fd);
    return e;
  };
  if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
    return refuse(
        Error::InvalidInput("artifact '" + path + "' is not a regular file", kArtifactField));
  }
  if (static_cast<uint64_t>(st->st_size) > kMaxArtifactBytes) {
    return refuse(Error::InvalidInput("artifact '" + path + "' is " + std::to_string(st->st_size) +
                                          " bytes; the limit is " +
                                          std::to_string(kMaxArtifactBytes) + " bytes",
                                      kArtifactField));
  }
  if (check) {
    // The file this descriptor is, whatever symlinks led to it: no race with a swap.
    std::error_code ec;
    auto real = fs::read_symlink("/proc/self/fd/" + std::to_string(fd), ec);
    if (ec) return refuse(Error::Internal("cannot tell which file '" + path + "' is"));
    if (Status s = check(real.string()); !s.ok()) {
      Error e = s.error();
      if (e.field.empty()) e.field = kArtifactField;
      return refuse(e);
    }
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return fd;
}

}  // namespace

ArtifactStore::ArtifactStore(std::string artifacts_root, std::string releases_root,
                             uint64_t max_release_bytes)
    : artifacts_root_(std::move(artifacts_root)),
      releases_root_(std::move(releases_root)),
      max_release_bytes_(max_release_bytes) {}

Result<std::string> ArtifactStore::Inspect(const std::string& path,
                                           const ArtifactCheck& check) const {
  struct stat st;
  auto fd = OpenArtifact(path, &st, check);
  if (!fd.ok()) return fd.error();
  Fd in(*fd);
  Result<std::string> hex = Sha256Fd(in.get());
  if (!hex.ok()) return Error::InvalidInput("artifact '" + path + "': " + hex.error().message);
  return "sha256:" + *hex;
}

std::string ArtifactStore::ObjectPath(const std::string& digest) const {
  std::string hex;
  if (!ParseDigest(digest, &hex)) return "";
  return artifacts_root_ + "/sha256/" + hex;
}

void ArtifactStore::Remove(const std::string& digest) {
  std::string object = ObjectPath(digest);
  if (!object.empty()) unlink(object.c_str());
}

TarWatch ArtifactStore::WatchFor(const std::string& app) {
  TarWatch watch;
  watch.maxBytes = max_release_bytes_;
  watch.limitText = Bytes(max_release_bytes_) + ", the limit (serve --max-release-size)";
  if (!app.empty()) {
    watch.started = [this, app](int pid) {
      std::lock_guard lock(mu_);
      unpacking_.emplace(app, pid);
    };
    watch.ended = [this, app](int pid) {
      std::lock_guard lock(mu_);
      for (auto [it, end] = unpacking_.equal_range(app); it != end; ++it) {
        if (it->second == pid) {
          unpacking_.erase(it);
          break;
        }
      }
    };
  }
  return watch;
}

void ArtifactStore::CancelReleases(const std::string& app) {
  std::lock_guard lock(mu_);
  // The pid is ours until `ended` is called after waitpid, which takes this lock: never a
  // pid the kernel has given to another process.
  for (auto [it, end] = unpacking_.equal_range(app); it != end; ++it) kill(it->second, SIGKILL);
}

Status ArtifactStore::CheckFits(const std::string& file, const std::string& name) {
  if (IsTarName(name)) {
    Status s = CheckTar(file, name, kReleaseMarker, WatchFor(""));
    if (!s.ok()) {
      Error e = s.error();
      e.field = kArtifactField;
      return e;
    }
    return Status::Ok();
  }
  struct stat st;
  if (stat(file.c_str(), &st) == 0 && static_cast<uint64_t>(st.st_size) > max_release_bytes_) {
    return Error::InvalidInput("artifact '" + name + "' is larger than " +
                                   Bytes(max_release_bytes_) +
                                   ", the limit (serve --max-release-size)",
                               kArtifactField);
  }
  return Status::Ok();
}

Result<std::string> ArtifactStore::Put(const std::string& path, bool* added,
                                       const ArtifactCheck& check) {
  if (added) *added = false;
  struct stat st;
  auto fd = OpenArtifact(path, &st, check);
  if (!fd.ok()) return fd.error();
  Fd in(*fd);
  const mode_t mode = (st.st_mode & 0111) != 0 ? 0555 : 0444;

  // Hash first: an artifact already stored costs one read and no write.
  Result<std::string> hex = Sha256Fd(in.get());
  if (!hex.ok()) return Error::InvalidInput("artifact '" + path + "': " + hex.error().message);
  std::string digest = "sha256:" + *hex;
  std::string dir = artifacts_root_ + "/sha256";
  std::string object = dir + "/" + *hex;
  struct stat existing;
  if (stat(object.c_str(), &existing) == 0) {
    // Same bytes stored earlier from a non-executable file: an executable copy wins.
    if (mode == 0555 && (existing.st_mode & 0111) == 0) chmod(object.c_str(), 0555);
    return digest;
  }

  LG_RETURN_IF_ERROR(MakeDirs(dir));
  std::string tmp = dir + "/.tmp-XXXXXX";
  Fd out(mkostemp(tmp.data(), O_CLOEXEC));
  if (out.get() < 0) return Error::Internal(Errno("cannot create a file in '" + dir + "'"));
  auto fail = [&tmp](Error e) -> Result<std::string> {
    unlink(tmp.c_str());
    return e;
  };
  if (lseek(in.get(), 0, SEEK_SET) != 0) return fail(Error::Internal(Errno("seek '" + path + "'")));
  Result<std::string> copied = Sha256Fd(in.get(), out.get());
  if (!copied.ok()) return fail(copied.error());
  if (*copied != *hex) {
    return fail(Error::InvalidInput("artifact '" + path + "' changed while it was being stored",
                                    kArtifactField));
  }
  if (int injected = InjectedFault("artifact.write")) {  // base/fault.h: tests only
    errno = injected;
    return fail(Error::Internal(Errno("cannot store artifact in '" + object + "'")));
  }
  if (fsync(out.get()) != 0 || fchmod(out.get(), mode) != 0 ||
      rename(tmp.c_str(), object.c_str()) != 0) {
    return fail(Error::Internal(Errno("cannot store artifact in '" + object + "'")));
  }
  SyncDir(dir);
  if (added) *added = true;
  return digest;
}

bool ArtifactStore::Has(const std::string& digest) const {
  std::string hex;
  if (!ParseDigest(digest, &hex)) return false;
  struct stat st;
  std::string object = artifacts_root_ + "/sha256/" + hex;
  return stat(object.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
         static_cast<uint64_t>(st.st_size) <= kMaxArtifactBytes;
}

std::string ArtifactStore::PathOf(const std::string& digest) const {
  std::string hex;
  if (!ParseDigest(digest, &hex)) return "";
  return artifacts_root_ + "/sha256/" + hex;
}

Result<std::string> ArtifactStore::EnsureRelease(const std::string& app, int version,
                                                 const std::string& digest,
                                                 const std::string& name) {
  LG_RETURN_IF_ERROR(ValidateName(app, "app name"));
  if (version < 1) {
    return Error::InvalidInput("version " + std::to_string(version) + " is not valid");
  }
  std::string hex;
  if (!digest.empty()) {
    if (!ParseDigest(digest, &hex)) {
      return Error::InvalidInput("artifact digest '" + digest + "' is not sha256:<64 hex digits>");
    }
    if (name.empty() || name == "." || name.find('/') != std::string::npos ||
        name.find("..") != std::string::npos || name.find('\0') != std::string::npos ||
        name == kReleaseMarker) {
      return Error::InvalidInput(
          "artifact file name '" + name + "' must be a plain file name (no '/' or '..')",
          kArtifactField);
    }
    if (!Has(digest)) return Error::NotFound("artifact " + digest + " is not in the store");
  }

  std::string app_dir = releases_root_ + "/" + app;
  std::string dir = app_dir + "/" + std::to_string(version);
  if (std::optional<std::string> built = CompletedDigest(dir)) {
    if (*built != digest) {
      return Error::Internal("release directory '" + dir + "' holds " + *built + ", not " + digest);
    }
    return dir;
  }

  LG_RETURN_IF_ERROR(MakeDirs(app_dir));
  std::string tmp = app_dir + "/.tmp-" + std::to_string(version) + "-XXXXXX";
  if (mkdtemp(tmp.data()) == nullptr) {
    return Error::Internal(Errno("cannot create a directory in '" + app_dir + "'"));
  }
  auto drop_tmp = [&tmp] {
    std::error_code ec;
    fs::remove_all(tmp, ec);
  };
  auto fail = [&drop_tmp](Error e) -> Result<std::string> {
    drop_tmp();
    return e;
  };
  chmod(tmp.c_str(), 0755);
  if (!digest.empty()) {
    std::string object = artifacts_root_ + "/sha256/" + hex;
    Status filled = Status::Ok();
    if (IsTarName(name)) {
      filled = ExtractTar(object, tmp, name, kReleaseMarker, WatchFor(app));
    } else {
      struct stat st;
      bool executable = stat(object.c_str(), &st) == 0 && (st.st_mode & 0111) != 0;
      // A hard link to the stored object costs no copy and keeps the release read-only
      // (the object is 0444/0555), so an instance cannot change the bits a rollback runs.
      // Another file system (EXDEV) or no link support: a copy.
      if (link(object.c_str(), (tmp + "/" + name).c_str()) != 0) {
        filled = CopyObject(object, tmp + "/" + name, executable ? 0755 : 0644);
      }
    }
    if (!filled.ok()) return fail(filled.error());
  }
  if (int injected = InjectedFault("release.write")) {  // base/fault.h: tests only
    errno = injected;
    return fail(Error::Internal(Errno("cannot fill release directory '" + dir + "'")));
  }
  Status marked = WriteMarker(tmp, digest, name);
  if (!marked.ok()) return fail(marked.error());

  if (rename(tmp.c_str(), dir.c_str()) != 0) {
    if (errno != ENOTEMPTY && errno != EEXIST) {
      return fail(Error::Internal(Errno("cannot move release into '" + dir + "'")));
    }
    // Another caller finished the same release first: theirs is as good as ours.
    if (CompletedDigest(dir) == digest) {
      drop_tmp();
      return dir;
    }
    // Not one of ours (we only ever rename complete directories into place): set it aside.
    std::string stale = app_dir + "/.stale-" + std::to_string(version) + "-XXXXXX";
    if (mkdtemp(stale.data()) == nullptr || rename(dir.c_str(), (stale + "/old").c_str()) != 0 ||
        rename(tmp.c_str(), dir.c_str()) != 0) {
      return fail(Error::Internal(Errno("cannot replace the incomplete release '" + dir + "'")));
    }
    std::error_code ec;
    fs::remove_all(stale, ec);
  }
  SyncDir(app_dir);
  return dir;
}

}  // namespace lastgood
