// KeyFile: the key that seals an app's secrets (secrets/sealing.h), kept in the home beside
// the store and never in it ("<home>/secrets.key"), so that the store file or a backup of it
// alone reveals no secret (docs/secrets.md).
//
// The file is one line, "lastgood-secrets-key v1 <64 hex digits>", mode 0600, owned by the
// controller's user. It is made at the first `secret set` (O_EXCL: two makers never write
// two keys) and refused when others may read it or it is not a regular file of ours.
//
// Thread-safety: pure functions over the file system; concurrent LoadOrCreateKey calls on
// one path agree on one key.
#pragma once

#include <string>

#include "base/result.h"
#include "secrets/sealing.h"

namespace lastgood {

inline constexpr char kSecretKeyFileName[] = "secrets.key";
inline constexpr char kSecretKeyFileTag[] = "lastgood-secrets-key v1";

// The key in the file at `path`. NotFound when there is no file; Unavailable with what to do
// when it is malformed, is not a regular file, is owned by another user, or is readable or
// writable by group or others.
Result<SecretKey> LoadKey(const std::string& path);

// The key at `path`, made first (random, 0600, written and synced before use) if missing.
Result<SecretKey> LoadOrCreateKey(const std::string& path);

// The file's text for `key` (what LoadKey reads).
std::string KeyFileText(const SecretKey& key);

}  // namespace lastgood
