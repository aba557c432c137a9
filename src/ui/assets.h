// The dashboard's static files (built by `make build` from web/ into build/ui/), read
// from a directory at each request, and the one page served without a session.
// Thread-safe (pure functions over the file system).
#pragma once

#include <string>

#include "base/result.h"

namespace lastgood::ui {

inline constexpr size_t kMaxAssetBytes = 8 << 20;

struct Asset {
  std::string body;
  std::string contentType;
  bool immutable = false;  // a hashed file name under assets/: cacheable for long
};

// The file that the URL path names under `dir` ("/" is index.html). NotFound for a path
// that leaves the directory, has unexpected characters, or names no regular file.
Result<Asset> LoadAsset(const std::string& dir, const std::string& url_path);

// The page's files: "<dir of /proc/self/exe>/ui" (a build), else, when only that exists,
// "<dir of the binary>/../share/lastgood/ui" (the package: /usr/share/lastgood/ui).
std::string DefaultAssetsDir();

// The small HTML page for a browser without a session (or after a bad login link).
std::string LoginNeededPage(const std::string& why);

}  // namespace lastgood::ui
