// TempDir: a fresh directory for one test, removed with everything in it when the TempDir
// goes. Made under $TMPDIR (else /tmp), or under /dev/shm when asked for `kInMemory` (no
// disk flush: for tests that commit to a store thousands of times).
//
// Thread-safety: owned by one test; path() may be read from any thread.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>

namespace lastgood::testutil {

class TempDir {
 public:
  enum Where { kOnDisk, kInMemory };
  explicit TempDir(const std::string& prefix = "lastgood", Where where = kOnDisk) {
    std::filesystem::path base = std::filesystem::temp_directory_path();
    if (where == kInMemory && std::filesystem::is_directory("/dev/shm")) base = "/dev/shm";
    std::string pattern = (base / (prefix + "-XXXXXX")).string();
    if (mkdtemp(pattern.data()) == nullptr)
      throw std::runtime_error("cannot make a temporary directory under " + base.string());
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace lastgood::testutil
