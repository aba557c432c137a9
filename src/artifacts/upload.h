// Artifacts that arrive through the API (issue 15: a remote `apply` sends the file its
// manifest names) rather than from a path on the controller's disk.
//
// An ArtifactUpload writes the bytes to a temp file beside the store's objects as they come,
// hashing them on the way, and puts the object in place (<artifacts>/sha256/<hex>, read-only,
// as ArtifactStore::Put does) only when the whole body hashes to the digest the uploader
// named: the artifact is never held in memory, and a cut-off or false upload leaves nothing.
// Each stored upload leaves a mark (<artifacts>/uploads/<hex>) whose time says when it was
// last sent or asked about; Sweep deletes uploads that no version uses once that is older
// than a grace period, so an upload that is never applied does not stay for ever.
//
// Thread-safe: ArtifactUploads may be used from any thread (Commit, Touch and Sweep take one
// lock, so a sweep never deletes an object that an upload has just put back); one
// ArtifactUpload belongs to one connection.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "artifacts/sha256.h"
#include "base/result.h"

namespace lastgood {

class ArtifactUploads;

// What a finished upload stored.
struct UploadReceipt {
  std::string digest;  // "sha256:<hex>"
  uint64_t bytes = 0;
  bool stored = false;  // false: the store had these bytes already
};

class ArtifactUpload {
 public:
  ~ArtifactUpload();  // an upload not committed removes its temp file
  ArtifactUpload(const ArtifactUpload&) = delete;
  ArtifactUpload& operator=(const ArtifactUpload&) = delete;

  // Appends the next bytes. InvalidInput past the upload's limit; Internal when the disk
  // refuses them (the message says so).
  Status Write(std::string_view bytes);
  // The body is complete: InvalidInput if its digest is not the one named; else the object
  // is stored (synced, renamed into place) and marked as uploaded now.
  // REQUIRES: called once, after the last Write.
  Result<UploadReceipt> Commit();
  uint64_t received() const { return received_; }

 private:
  friend class ArtifactUploads;
  ArtifactUpload(ArtifactUploads* owner, std::string digest, bool executable, uint64_t limit,
                 std::string tmp, int fd);

  ArtifactUploads* owner_;
  const std::string digest_;
  const bool executable_;
  const uint64_t limit_;
  std::string tmp_;  // "" once committed
  int fd_;
  uint64_t received_ = 0;
  Sha256Stream hash_;
};

class ArtifactUploads {
 public:
  // `artifacts_root` is the ArtifactStore's ("<home>/artifacts").
  explicit ArtifactUploads(std::string artifacts_root);

  // An upload of the artifact `digest` ("sha256:<hex>"), of at most `limit` bytes; stored
  // 0555 when `executable`, else 0444. InvalidInput for a malformed digest.
  Result<std::unique_ptr<ArtifactUpload>> Begin(const std::string& digest, bool executable,
                                                uint64_t limit);
  // Whether `digest` came through an upload and its object is stored. Such a digest may be
  // named by an apply without its bytes (the uploader proved it had them).
  bool Uploaded(const std::string& digest) const;
  // Whether the store holds the object of `digest` (uploaded or stored by a local apply).
  bool Has(const std::string& digest) const;
  // Marks an uploaded digest as asked about now: its grace period starts again. An upload
  // that is not there is left alone.
  void Touch(const std::string& digest);
  // Deletes every upload marked longer ago than `grace_millis` before `now_millis` (epoch)
  // whose digest `in_use` does not claim, with its object; and temp files of uploads cut
  // off that long ago. Returns how many uploads it deleted.
  int Sweep(int64_t now_millis, int64_t grace_millis,
            const std::function<bool(const std::string& digest)>& in_use);

 private:
  friend class ArtifactUpload;
  // Puts the synced temp file in place as the object of `hex` and marks it (under mu_).
  Result<bool> Install(const std::string& tmp, const std::string& hex, bool executable);

  const std::string root_;
  mutable std::mutex mu_;  // Install, Touch and Sweep
};

}  // namespace lastgood
