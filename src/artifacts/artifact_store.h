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
  // digest "sha256:<hex>". InvalidInput if it is not a readable regular file.
  Result<std::string> Put(const std::string& path);
  // True if the artifact with this digest is in the store and intact.
  bool Has(const std::string& digest) const;

  // Ensures "<releases>/<app>/<version>" exists and holds the artifact: a .tar, .tar.gz or
  // .tgz artifact is extracted into it; any other file is copied in under `name` (its
  // original file name) with its mode kept. Idempotent. Returns the directory's path.
  // An empty digest gives an empty release directory.
  Result<std::string> EnsureRelease(const std::string& app, int version,
                                    const std::string& digest, const std::string& name);

 private:
  std::string artifacts_root_;
  std::string releases_root_;
};

// sha256 of a file's contents as "sha256:<hex>".
Result<std::string> Sha256File(const std::string& path);
// sha256 of a string as "sha256:<hex>".
std::string Sha256String(const std::string& data);

}  // namespace lastgood
