#include "secrets/sealing.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <memory>
#include <vector>

namespace lastgood {
namespace {

// The associated data binds a sealed value to its format, app and name: the NUL bytes keep
// ("ab", "c") and ("a", "bc") apart (app and names are plain names without NUL).
std::string AssociatedData(std::string_view app, std::string_view name) {
  std::string ad = "lastgood secret v1";
  ad.push_back('\0');
  ad.append(app);
  ad.push_back('\0');
  ad.append(name);
  return ad;
}

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using Ctx = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;

int Len(size_t n) { return static_cast<int>(n); }

}  // namespace

std::string ToHex(const unsigned char* data, size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 0xf]);
  }
  return out;
}

bool FromHex(std::string_view text, std::vector<unsigned char>* out) {
  auto digit = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  if (text.size() % 2 != 0) return false;
  out->resize(text.size() / 2);
  for (size_t i = 0; i < out->size(); ++i) {
    int hi = digit(text[2 * i]), lo = digit(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    (*out)[i] = static_cast<unsigned char>(hi << 4 | lo);
  }
  return true;
}

std::string SecretKey::Id() const {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(bytes.data(), bytes.size(), digest);
  return ToHex(digest, 8);
}

Result<SecretKey> NewSecretKey() {
  SecretKey key;
  if (RAND_bytes(key.bytes.data(), Len(key.bytes.size())) != 1) {
    return Error::Unavailable("the random number generator failed; no secret key was made");
  }
  return key;
}

Result<std::string> Seal(const SecretKey& key, std::string_view app, std::string_view name,
                         std::string_view value) {
  std::vector<unsigned char> out(kSealNonceBytes + value.size() + kSealTagBytes);
  unsigned char* nonce = out.data();
  unsigned char* body = nonce + kSealNonceBytes;
  if (RAND_bytes(nonce, Len(kSealNonceBytes)) != 1) {
    return Error::Unavailable("the random number generator failed; the secret was not stored");
  }
  const std::string ad = AssociatedData(app, name);
  Ctx ctx(EVP_CIPHER_CTX_new());
  int n = 0, tail = 0;
  bool ok =
      ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, Len(kSealNonceBytes), nullptr) &&
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, key.bytes.data(), nonce) &&
      EVP_EncryptUpdate(ctx.get(), nullptr, &n, reinterpret_cast<const unsigned char*>(ad.data()),
                        Len(ad.size())) &&
      EVP_EncryptUpdate(ctx.get(), body, &n, reinterpret_cast<const unsigned char*>(value.data()),
                        Len(value.size())) &&
      EVP_EncryptFinal_ex(ctx.get(), body + n, &tail) &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, Len(kSealTagBytes), body + value.size());
  if (!ok || static_cast<size_t>(n + tail) != value.size()) {
    return Error::Unavailable("the cipher failed; the secret was not stored");
  }
  std::string sealed = std::string(kSealedPrefix) + key.Id() + ":" + ToHex(out.data(), out.size());
  OPENSSL_cleanse(out.data(), out.size());
  return sealed;
}

Result<std::string> Unseal(const SecretKey& key, std::string_view app, std::string_view name,
                           std::string_view sealed) {
  const std::string what = "secret " + std::string(name) + " of " + std::string(app);
  if (sealed.substr(0, kSealedPrefix.size()) != kSealedPrefix) {
    return Error::Unavailable(what + " is not in a form this lastgood knows; set it again");
  }
  std::string_view rest = sealed.substr(kSealedPrefix.size());
  size_t colon = rest.find(':');
  if (colon == std::string_view::npos) {
    return Error::Unavailable(what + " is damaged in the store; set it again");
  }
  std::string_view id = rest.substr(0, colon);
  if (id != key.Id()) {
    return Error::Unavailable(what + " was sealed with key " + std::string(id) +
                              ", but this home's key (secrets.key) is " + key.Id() +
                              ": put the key file of the home the store comes from in place "
                              "(docs/secrets.md), or set the secret again");
  }
  std::vector<unsigned char> raw;
  if (!FromHex(rest.substr(colon + 1), &raw) || raw.size() < kSealNonceBytes + kSealTagBytes) {
    return Error::Unavailable(what + " is damaged in the store; set it again");
  }
  const size_t size = raw.size() - kSealNonceBytes - kSealTagBytes;
  unsigned char* nonce = raw.data();
  unsigned char* body = nonce + kSealNonceBytes;
  unsigned char* tag = body + size;
  std::string value(size, '\0');
  const std::string ad = AssociatedData(app, name);
  Ctx ctx(EVP_CIPHER_CTX_new());
  int n = 0, tail = 0;
  bool ok =
      ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, Len(kSealNonceBytes), nullptr) &&
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, key.bytes.data(), nonce) &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &n, reinterpret_cast<const unsigned char*>(ad.data()),
                        Len(ad.size())) &&
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(value.data()), &n, body,
                        Len(size)) &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, Len(kSealTagBytes), tag) &&
      EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(value.data()) + n, &tail) > 0;
  if (!ok) {
    OPENSSL_cleanse(value.data(), value.size());
    return Error::Unavailable(what +
                              " does not open with this home's key: it was altered in the store "
                              "or moved from another app or name; set it again");
  }
  return value;
}

}  // namespace lastgood
