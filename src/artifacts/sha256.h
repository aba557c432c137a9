// Streaming SHA-256 of an open file (internal to artifacts/). Thread-safe: no shared state.
#pragma once

#include <string>

#include "base/result.h"

namespace lastgood {

// Reads `fd` from its current offset to the end in 64 KiB chunks and returns the lowercase
// hex digest; when `copy_to` >= 0 every chunk is also written there.
Result<std::string> Sha256Fd(int fd, int copy_to = -1);

// True for "sha256:" followed by 64 lowercase hex digits; `hex` receives the digits.
bool ParseDigest(const std::string& digest, std::string* hex);

}  // namespace lastgood
