// ArtifactStore: content-addressed storage of artifacts under the home, and the release
// directory of each version (where its instances run), so that a rollback runs exactly
// the bits that were deployed. Thread-safe (files are written to a temp name and renamed).
#pragma once

#include <memory>
#include <string>

#include "base/result.h"

namespace lastgood {

// Largest artifact accepted.
inline constexpr uint64_t kMaxArtifactBytes = 4ULL << 30;

class ArtifactStore {
 public:
  // `root` is "<home>/artifacts"; releases live in "<home>/releases".
  ArtifactStore(std::string artifacts_root, std::string releases_root);

  // Copies the file at `path` into the store (if not already there) and returns its
  // digest "sha256:<hex>". InvalidInput if it is not a readable regular file or is larger
  // than kMaxArtifactBytes. The stored copy is 0444, or 0555 if the file was executable.
  Result<std::string> Put(const std::string& path);
  // True if the artifact with this digest is in the store and intact. Cheap: checks that
  // the object is a regular file within kMaxArtifactBytes, without re-hashing it; objects
  // are only ever renamed into place complete and read-only, so one that is there is whole
  // unless someone changed the store by hand.
  bool Has(const std::string& digest) const;

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
  std::string artifacts_root_;
  std::string releases_root_;
};

// sha256 of a file's contents as "sha256:<hex>".
Result<std::string> Sha256File(const std::string& path);
// sha256 of a string as "sha256:<hex>".
std::string Sha256String(const std::string& data);

}  // namespace lastgood
