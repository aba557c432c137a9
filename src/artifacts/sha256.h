// Streaming SHA-256: of an open file, or of bytes as they come (an upload, and the CLI
// hashing the artifact it is about to send). Thread-safe: no shared state; a Sha256Stream
// belongs to one thread at a time.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"

namespace lastgood {

// Reads `fd` from its current offset to the end in 64 KiB chunks and returns the lowercase
// hex digest; when `copy_to` >= 0 every chunk is also written there.
Result<std::string> Sha256Fd(int fd, int copy_to = -1);

// SHA-256 of bytes fed in pieces.
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;
  void Update(std::string_view bytes);
  // "sha256:<hex>" of everything fed so far; the stream is spent after it.
  std::string Digest();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

// True for "sha256:" followed by 64 lowercase hex digits; `hex` receives the digits.
bool ParseDigest(const std::string& digest, std::string* hex);

}  // namespace lastgood
