// SecretBox: an app's secrets (issue 11 C) — set, listed, removed and revealed — sealed with
// the home's key (secrets/key_file.h) before they reach the store, so that the store file
// and its backups hold none in clear (docs/secrets.md).
//
// Values are revealed only to start what runs with them (instances, hooks) and to redact
// them from text the controller records; listing shows names and times, never values. No
// message this class returns holds a value.
//
// Thread-safe. Borrows the store and the clock, which must outlive it. The key is read
// from its file at first use and kept in memory; it is made (0600) by the first Set of a
// store that holds no secret yet.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/mutex.h"
#include "base/result.h"
#include "secrets/sealing.h"
#include "store/store.h"

namespace lastgood {

// A value is at most this long: an environment variable, not a file (Linux's limit for one
// is 128 KiB); a certificate bundle fits.
inline constexpr size_t kMaxSecretBytes = 64 * 1024;
inline constexpr int kMaxSecretsPerApp = 100;

struct SecretInfo {
  std::string name;
  int64_t setAt = 0;  // epoch millis
  std::string setBy;
};

// A revealed secret: its name and value.
struct SecretValue {
  std::string name;
  std::string value;
};

// InvalidInput (field "value") unless `value` may be a secret's: not empty, at most
// kMaxSecretBytes, no NUL byte (an environment variable cannot carry one).
Status ValidateSecretValue(const std::string& value);

class SecretBox {
 public:
  // `key_path`: "<home>/secrets.key".
  SecretBox(Store* store, std::string key_path, Clock* clock)
      : store_(store), key_path_(std::move(key_path)), clock_(clock) {}

  // Sets (or replaces) secret `name` of `app`; returns when it was set before, if it was.
  // InvalidInput for a bad name or value; Conflict beyond kMaxSecretsPerApp; Unavailable when
  // the key cannot be read or made.
  Result<std::optional<int64_t>> Set(const std::string& app, const std::string& name,
                                     const std::string& value, const std::string& actor);
  // Names, by name, with when and by whom each was set.
  Result<std::vector<SecretInfo>> List(const std::string& app);
  // NotFound when it is not set.
  Status Remove(const std::string& app, const std::string& name);
  // When `name` was last set, or nullopt if it is not set.
  Result<std::optional<int64_t>> SetAt(const std::string& app, const std::string& name);
  // The value. NotFound ("secret NAME of APP is not set; `lastgood secret set APP NAME`")
  // when missing; Unavailable when it cannot be opened (no key, another home's key).
  Result<std::string> Reveal(const std::string& app, const std::string& name);
  // Every secret of `app` that opens, for redaction; those that do not are left out.
  std::vector<SecretValue> RevealAll(const std::string& app);

 private:
  // The key, read (or, with `create`, made) at first use. Never made while the store holds
  // sealed values: their key is missing then, and Unavailable says how to put it back.
  Result<SecretKey> Key(bool create) EXCLUDES(mu_);
  // Whether any app has a secret in the store.
  Result<bool> HoldsSealedSecrets();

  Store* const store_;
  const std::string key_path_;
  Clock* const clock_;
  Mutex mu_;
  std::optional<SecretKey> key_ GUARDED_BY(mu_);
};

}  // namespace lastgood
