#include "artifacts/sha256.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "artifacts/artifact_store.h"

namespace lastgood {
namespace {

constexpr size_t kChunkBytes = 64 * 1024;

std::string Hex(const unsigned char* bytes, unsigned int n) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < n; ++i) {
    out += kDigits[bytes[i] >> 4];
    out += kDigits[bytes[i] & 0xf];
  }
  return out;
}

using MdCtx = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

MdCtx NewSha256() {
  MdCtx ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (ctx && EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) ctx.reset();
  return ctx;
}

std::string Finish(EVP_MD_CTX* ctx) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx, md, &n);
  return Hex(md, n);
}

bool WriteAll(int fd, const char* data, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

}  // namespace

Result<std::string> Sha256Fd(int fd, int copy_to) {
  MdCtx ctx = NewSha256();
  if (!ctx) return Error::Internal("sha256: OpenSSL could not set up a digest");
  std::vector<char> buf(kChunkBytes);
  while (true) {
    ssize_t n = read(fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::Internal(std::string("read: ") + strerror(errno));
    }
    if (n == 0) break;
    EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(n));
    if (copy_to >= 0 && !WriteAll(copy_to, buf.data(), static_cast<size_t>(n))) {
      return Error::Internal(std::string("write: ") + strerror(errno));
    }
  }
  return Finish(ctx.get());
}

bool ParseDigest(const std::string& digest, std::string* hex) {
  constexpr std::string_view kPrefix = "sha256:";
  if (digest.size() != kPrefix.size() + 64 || digest.compare(0, kPrefix.size(), kPrefix) != 0) {
    return false;
  }
  for (size_t i = kPrefix.size(); i < digest.size(); ++i) {
    char c = digest[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  *hex = digest.substr(kPrefix.size());
  return true;
}

Result<std::string> Sha256File(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error::InvalidInput("cannot read '" + path + "': " + strerror(errno));
  Result<std::string> hex = Sha256Fd(fd);
  close(fd);
  if (!hex.ok()) return Error::Internal("'" + path + "': " + hex.error().message);
  return "sha256:" + *hex;
}

struct Sha256Stream::Ctx {
  MdCtx md = NewSha256();
};

Sha256Stream::Sha256Stream() : ctx_(std::make_unique<Ctx>()) {}
Sha256Stream::~Sha256Stream() = default;

void Sha256Stream::Update(std::string_view bytes) {
  if (ctx_->md) EVP_DigestUpdate(ctx_->md.get(), bytes.data(), bytes.size());
}

std::string Sha256Stream::Digest() { return ctx_->md ? "sha256:" + Finish(ctx_->md.get()) : ""; }

std::string Sha256String(const std::string& data) {
  MdCtx ctx = NewSha256();
  if (!ctx) return "";
  EVP_DigestUpdate(ctx.get(), data.data(), data.size());
  return "sha256:" + Finish(ctx.get());
}

}  // namespace lastgood
