// Layout beside ArtifactStore's objects: <artifacts>/sha256/.upload-XXXXXX while an upload
// arrives, <artifacts>/sha256/<hex> once it is whole, and <artifacts>/uploads/<hex> (empty;
// its mtime is the last time the upload was sent or asked about).
#include "artifacts/upload.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "base/fault.h"

namespace lastgood {
namespace {

namespace fs = std::filesystem;

constexpr char kTempPrefix[] = ".upload-";

std::string UploadErrno(const std::string& what) { return what + ": " + strerror(errno); }

void SyncUploadDir(const std::string& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
}

// Creates the marker or sets its time to now.
bool Mark(const std::string& path) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  bool ok = futimens(fd, nullptr) == 0;
  close(fd);
  return ok;
}

int64_t MtimeMillis(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1'000'000;
}

}  // namespace

ArtifactUpload::ArtifactUpload(ArtifactUploads* owner, std::string digest, bool executable,
                               uint64_t limit, std::string tmp, int fd)
    : owner_(owner),
      digest_(std::move(digest)),
      executable_(executable),
      limit_(limit),
      tmp_(std::move(tmp)),
      fd_(fd) {}

ArtifactUpload::~ArtifactUpload() {
  if (fd_ >= 0) close(fd_);
  if (!tmp_.empty()) unlink(tmp_.c_str());
}

Status ArtifactUpload::Write(std::string_view bytes) {
  if (tmp_.empty() || fd_ < 0) return Error::Internal("the upload has ended");
  if (bytes.size() > limit_ - received_) {
    return Error::InvalidInput("the upload is more than its limit of " + std::to_string(limit_) +
                               " bytes");
  }
  hash_.Update(bytes);
  received_ += bytes.size();
  const char* p = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    ssize_t w = write(fd_, p, left);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return Error::Internal(UploadErrno("cannot write the upload to the lastgood home"));
    p += w;
    left -= static_cast<size_t>(w);
  }
  return Status::Ok();
}

Result<UploadReceipt> ArtifactUpload::Commit() {
  if (tmp_.empty() || fd_ < 0) return Error::Internal("the upload has ended");
  std::string got = hash_.Digest();
  if (got != digest_) {
    return Error::InvalidInput("the " + std::to_string(received_) + " bytes received hash to " +
                                   got + ", not to " + digest_ +
                                   " as they were sent; nothing stored",
                               "digest");
  }
  if (int injected = InjectedFault("artifact.write")) {  // base/fault.h: tests only
    errno = injected;
    return Error::Internal(UploadErrno("cannot store the upload"));
  }
  if (fsync(fd_) != 0) return Error::Internal(UploadErrno("cannot store the upload"));
  close(fd_);
  fd_ = -1;
  Result<bool> stored = owner_->Install(tmp_, digest_.substr(7), executable_);
  if (!stored.ok()) return stored.error();
  tmp_.clear();  // renamed into place, or removed as a copy of what was there
  return UploadReceipt{digest_, received_, *stored};
}

ArtifactUploads::ArtifactUploads(std::string artifacts_root) : root_(std::move(artifacts_root)) {}

Result<std::unique_ptr<ArtifactUpload>> ArtifactUploads::Begin(const std::string& digest,
                                                               bool executable, uint64_t limit) {
  std::string hex;
  if (!ParseDigest(digest, &hex)) {
    return Error::InvalidInput("'" + digest + "' is not a digest: give sha256:<64 hex digits>",
                               "digest");
  }
  std::string dir = root_ + "/sha256";
  std::error_code ec;
  fs::create_directories(dir, ec);
  fs::create_directories(root_ + "/uploads", ec);
  if (ec) return Error::Internal("cannot create '" + dir + "': " + ec.message());
  std::string tmp = dir + "/" + kTempPrefix + "XXXXXX";
  int fd = mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) return Error::Internal(UploadErrno("cannot create a file in '" + dir + "'"));
  return std::unique_ptr<ArtifactUpload>(
      new ArtifactUpload(this, digest, executable, limit, std::move(tmp), fd));
}

Result<bool> ArtifactUploads::Install(const std::string& tmp, const std::string& hex,
                                      bool executable) {
  std::lock_guard lock(mu_);
  const mode_t mode = executable ? 0555 : 0444;
  std::string object = root_ + "/sha256/" + hex;
  bool stored = false;
  struct stat existing;
  if (stat(object.c_str(), &existing) == 0) {
    // The same bytes are stored already; an executable upload makes them executable, as
    // ArtifactStore::Put does for an executable file.
    unlink(tmp.c_str());
    if (executable && (existing.st_mode & 0111) == 0) chmod(object.c_str(), 0555);
  } else {
    if (chmod(tmp.c_str(), mode) != 0 || rename(tmp.c_str(), object.c_str()) != 0) {
      unlink(tmp.c_str());
      return Error::Internal(UploadErrno("cannot store the upload as '" + object + "'"));
    }
    SyncUploadDir(root_ + "/sha256");
    stored = true;
  }
  if (!Mark(root_ + "/uploads/" + hex))
    return Error::Internal(UploadErrno("cannot mark the upload in '" + root_ + "/uploads'"));
  return stored;
}

bool ArtifactUploads::Uploaded(const std::string& digest) const {
  std::string hex;
  if (!ParseDigest(digest, &hex)) return false;
  struct stat st;
  return stat((root_ + "/uploads/" + hex).c_str(), &st) == 0 &&
         stat((root_ + "/sha256/" + hex).c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool ArtifactUploads::Has(const std::string& digest) const {
  std::string hex;
  struct stat st;
  return ParseDigest(digest, &hex) && stat((root_ + "/sha256/" + hex).c_str(), &st) == 0 &&
         S_ISREG(st.st_mode);
}

void ArtifactUploads::Touch(const std::string& digest) {
  std::string hex;
  if (!ParseDigest(digest, &hex)) return;
  std::lock_guard lock(mu_);
  std::string marker = root_ + "/uploads/" + hex;
  struct stat st;
  if (stat(marker.c_str(), &st) == 0) Mark(marker);
}

int ArtifactUploads::Sweep(int64_t now_millis, int64_t grace_millis,
                           const std::function<bool(const std::string& digest)>& in_use) {
  int deleted = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root_ + "/uploads", ec)) {
    std::string hex = e.path().filename().string();
    std::string digest = "sha256:" + hex, parsed;
    if (!ParseDigest(digest, &parsed)) continue;
    // Asked outside the lock: in_use may read the store.
    if (in_use(digest)) continue;
    std::lock_guard lock(mu_);
    struct stat st;
    // Looked at again under the lock: an upload of the same bytes may have just marked it.
    if (stat(e.path().c_str(), &st) != 0 || now_millis - MtimeMillis(st) < grace_millis) continue;
    unlink((root_ + "/sha256/" + hex).c_str());
    unlink(e.path().c_str());
    ++deleted;
  }
  // Temp files of uploads that were cut off (a controller that stopped mid-upload).
  for (const auto& e : fs::directory_iterator(root_ + "/sha256", ec)) {
    if (e.path().filename().string().rfind(kTempPrefix, 0) != 0) continue;
    struct stat st;
    if (lstat(e.path().c_str(), &st) == 0 && now_millis - MtimeMillis(st) >= grace_millis)
      unlink(e.path().c_str());
  }
  return deleted;
}

}  // namespace lastgood
