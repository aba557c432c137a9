// ArtifactStore: content-addressed storage of artifacts under the home, and the release
// directory of each version (where its instances run), so that a rollback runs exactly
// the bits that were deployed. Thread-safe (files are written to a temp name and renamed).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "artifacts/tar.h"
#include "base/result.h"

namespace lastgood {

// Largest artifact accepted.
inline constexpr uint64_t kMaxArtifactBytes = 4ULL << 30;
// What a release may unpack to by default (`serve --max-release-size`, issue 11 A6).
inline constexpr uint64_t kDefaultMaxReleaseBytes = 2ULL << 30;

// Whether a caller may have the file at `real_path` (the file actually opened, every
// symlink followed) stored: an error refuses it (issue 11 B4: a deployer names only files
// under an allowed folder, never one of the home).
using ArtifactCheck = std::function<Status(const std::string& real_path)>;

class ArtifactStore {
 public:
  // `root` is "<home>/artifacts"; releases live in "<home>/releases". A release may hold at
  // most `max_release_bytes` (a tar artifact's unpacked files, or a plain artifact).
  ArtifactStore(std::string artifacts_root, std::string releases_root,
                uint64_t max_release_bytes = kDefaultMaxReleaseBytes);

  // Copies the file at `path` into the store (if not already there) and returns its
  // digest "sha256:<hex>". InvalidInput if it is not a readable regular file or is larger
  // than kMaxArtifactBytes. The stored copy is 0444, or 0555 if the file was executable.
  // *added (if given) says whether this call stored it (it was not there before). `check`
  // (if given) is asked about the opened file first.
  Result<std::string> Put(const std::string& path, bool* added = nullptr,
                          const ArtifactCheck& check = {});
  // The digest Put would return, storing nothing (what-if), with the same checks.
  Result<std::string> Inspect(const std::string& path, const ArtifactCheck& check = {}) const;
  // Deletes a stored artifact (one that a refused apply stored and nothing refers to).
  void Remove(const std::string& digest);
  // Whether the artifact `file` (named `name`, as in the manifest) fits in a release: a tar
  // artifact's unpacked size, or a plain file's size, within the limit. InvalidInput naming
  // the limit and its flag otherwise; a tar that does not read or would place a member
  // outside its directory is refused too (CheckTar). Reads a tar through, to the limit.
  Status CheckFits(const std::string& file, const std::string& name);
  // The stored object of a digest, for CheckFits; "" if the digest is not one.
  std::string ObjectPath(const std::string& digest) const;
  // Stops the tar processes unpacking releases of `app` now (a rollback taking over): their
  // EnsureRelease returns Unavailable. Thread-safe.
  void CancelReleases(const std::string& app);
  // True if the artifact with this digest is in the store and intact. Cheap: checks that
  // the object is a regular file within kMaxArtifactBytes, without re-hashing it; objects
  // are only ever renamed into place complete and read-only, so one that is there is whole
  // unless someone changed the store by hand.
  bool Has(const std::string& digest) const;
  // Where the artifact with this digest is kept ("" for a digest that is not sha256:<hex>);
  // what a fleet host is sent (docs/fleets.md).
  std::string PathOf(const std::string& digest) const;

  // Ensures "<releases>/<app>/<version>" exists and holds the artifact: a .tar, .tar.gz or
  // .tgz artifact is extracted into it; any other file is copied in under `name` (its
  // original file name), 0755 if it was stored from an executable file, else 0644.
  // Idempotent: a complete directory (its marker file is written last) is returned as is.
  // An empty digest gives an empty release directory. InvalidInput for a `name` with '/' or
  // '..' or a tar member that is absolute or has a '..'; NotFound if the artifact is not in
  // the store (nothing is created then). Returns the directory's path.
  Result<std::string> EnsureRelease(const std::string& app, int version, const std::string& digest,
                                    const std::string& name);

 private:
  TarWatch WatchFor(const std::string& app);  // bounded, and stoppable by CancelReleases

  std::string artifacts_root_;
  std::string releases_root_;
  const uint64_t max_release_bytes_;
  std::mutex mu_;
  std::multimap<std::string, int> unpacking_;  // GUARDED_BY(mu_): app → tar pid
};

// sha256 of a file's contents as "sha256:<hex>".
Result<std::string> Sha256File(const std::string& path);
// sha256 of a string as "sha256:<hex>".
std::string Sha256String(const std::string& data);

}  // namespace lastgood
