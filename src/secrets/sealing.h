// Sealing: how a secret's value is kept at rest. AES-256-GCM (an AEAD from OpenSSL) with a
// 32-byte key from the home's key file (secrets/key_file.h), a random 96-bit nonce per
// sealing, and the app and secret name as associated data, so that a sealed value copied
// onto another app's or another name's row does not open (docs/secrets.md, "Scheme").
//
// A sealed value is text: "lgs1:<key id>:<hex of nonce | ciphertext | tag>". The key id (the
// first 8 bytes of the key's SHA-256, in hex) says which key sealed it, so that a store
// restored without its key file is reported as such, not as damage.
//
// Thread-safety: pure functions over their arguments (OpenSSL's RNG is thread-safe).
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace lastgood {

inline constexpr size_t kSecretKeyBytes = 32;
inline constexpr size_t kSealNonceBytes = 12;
inline constexpr size_t kSealTagBytes = 16;
inline constexpr std::string_view kSealedPrefix = "lgs1:";

struct SecretKey {
  std::array<unsigned char, kSecretKeyBytes> bytes{};
  // 16 hex digits naming the key (not secret: a hash prefix of it).
  std::string Id() const;
};

// A fresh random key. Unavailable if the RNG fails (it never returns a weak key).
Result<SecretKey> NewSecretKey();

// Seals `value` for secret `name` of `app`. Unavailable if the RNG or the cipher fails.
Result<std::string> Seal(const SecretKey& key, std::string_view app, std::string_view name,
                         std::string_view value);

// Opens what Seal made for the same app and name. Unavailable with a message saying what to
// do when the value was sealed with another key or does not open (altered, or moved to
// another app or name); the message never holds any of the value.
Result<std::string> Unseal(const SecretKey& key, std::string_view app, std::string_view name,
                           std::string_view sealed);

// Lowercase hex of `size` bytes, and back: FromHex is false for anything but an even count of
// [0-9a-f]. Shared by the sealed text and the key file.
std::string ToHex(const unsigned char* data, size_t size);
bool FromHex(std::string_view text, std::vector<unsigned char>* out);

}  // namespace lastgood
