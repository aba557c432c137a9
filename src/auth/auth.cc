#include "auth/auth.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <pwd.h>

#include <string_view>

namespace lastgood::auth {
namespace {

std::string Hex(const unsigned char* data, size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 0xf]);
  }
  return out;
}

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

}  // namespace

const char* RoleName(Role role) {
  switch (role) {
    case Role::kViewer:
      return "viewer";
    case Role::kDeployer:
      return "deployer";
    case Role::kAdmin:
      return "admin";
  }
  return "viewer";
}

Result<Role> ParseRole(const std::string& text) {
  if (text == "viewer") return Role::kViewer;
  if (text == "deployer") return Role::kDeployer;
  if (text == "admin") return Role::kAdmin;
  return Error::InvalidInput(
      "unknown role \"" + text.substr(0, 64) + "\": use viewer, deployer or admin", "role");
}

Principal LocalAdmin(unsigned uid) {
  std::string user = std::to_string(uid);
  passwd entry{};
  passwd* found = nullptr;
  char buffer[1024];
  if (getpwuid_r(uid, &entry, buffer, sizeof buffer, &found) == 0 && found != nullptr) {
    user = found->pw_name;
  }
  return {"local:" + user, Role::kAdmin, "unix"};
}

Result<std::string> NewToken() {
  unsigned char bytes[kTokenBytes];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    return Error::Unavailable("cannot make a token: the random number generator failed");
  }
  std::string token = kTokenPrefix + Hex(bytes, sizeof bytes);
  OPENSSL_cleanse(bytes, sizeof bytes);
  return token;
}

std::string TokenHash(const std::string& token) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), digest);
  return Hex(digest, sizeof digest);
}

bool ConstantTimeEquals(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool LooksLikeToken(const std::string& text) {
  std::string_view prefix = kTokenPrefix;
  if (text.size() != prefix.size() + 2 * kTokenBytes || !StartsWith(text, prefix)) return false;
  for (size_t i = prefix.size(); i < text.size(); ++i) {
    char c = text[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace lastgood::auth
