#include "secrets/secret_box.h"

#include "base/names.h"
#include "secrets/key_file.h"

namespace lastgood {
namespace {

std::string SetCommand(const std::string& app, const std::string& name) {
  return "`lastgood secret set " + app + " " + name + "`";
}

}  // namespace

Status ValidateSecretValue(const std::string& value) {
  if (value.empty()) {
    return Error::InvalidInput(
        "the value is empty; a secret needs a value (to drop one, `lastgood secret remove`)",
        "value");
  }
  if (value.size() > kMaxSecretBytes) {
    return Error::InvalidInput(
        "the value is " + std::to_string(value.size()) + " bytes; a secret may hold at most " +
            std::to_string(kMaxSecretBytes) + " bytes (put larger files in run.artifact)",
        "value");
  }
  if (value.find('\0') != std::string::npos) {
    return Error::InvalidInput(
        "the value holds a NUL byte, which an environment variable cannot carry; encode it "
        "(base64) and decode it in the app",
        "value");
  }
  return Status::Ok();
}

Result<SecretKey> SecretBox::Key(bool create) {
  MutexLock lock(&mu_);
  if (key_) return *key_;
  // A new key is made only for a store that holds no sealed value yet: with the key file
  // lost (a restore without it, a home copied in part) a new key would seal the next secret
  // and leave every older one unopenable, found only when an instance starts.
  if (create) {
    auto existing = LoadKey(key_path_);
    if (!existing.ok() && existing.error().code == ErrorCode::kNotFound) {
      auto sealed = HoldsSealedSecrets();
      if (!sealed.ok()) return sealed.error();
      if (*sealed) create = false;
    }
  }
  auto key = create ? LoadOrCreateKey(key_path_) : LoadKey(key_path_);
  if (!key.ok()) {
    if (key.error().code == ErrorCode::kNotFound) {
      return Error::Unavailable("the store holds secrets but the key that seals them (" +
                                key_path_ +
                                ") is missing: put back the key file of the home the store "
                                "comes from (docs/secrets.md), or set the secrets again");
    }
    return key.error();
  }
  key_ = *key;
  return *key;
}

Result<bool> SecretBox::HoldsSealedSecrets() {
  auto n = store_->CountSecrets();
  if (!n.ok()) return n.error();
  return *n > 0;
}

Result<std::optional<int64_t>> SecretBox::Set(const std::string& app, const std::string& name,
                                              const std::string& value, const std::string& actor) {
  LG_RETURN_IF_ERROR(ValidateName(app, "app name", "app"));
  LG_RETURN_IF_ERROR(ValidateName(name, "secret name", "name"));
  LG_RETURN_IF_ERROR(ValidateSecretValue(value));
  auto key = Key(/*create=*/true);
  if (!key.ok()) return key.error();
  auto before = store_->GetSecret(app, name);
  if (!before.ok()) return before.error();
  auto sealed = Seal(*key, app, name, value);
  if (!sealed.ok()) return sealed.error();
  SecretRecord rec{app, name, *sealed, clock_->NowMillis(), actor};
  LG_RETURN_IF_ERROR(store_->PutSecret(rec, kMaxSecretsPerApp));
  if (!*before) return std::optional<int64_t>();
  return std::optional<int64_t>((*before)->setAt);
}

Result<std::vector<SecretInfo>> SecretBox::List(const std::string& app) {
  LG_RETURN_IF_ERROR(ValidateName(app, "app name", "app"));
  auto rows = store_->ListSecrets(app);
  if (!rows.ok()) return rows.error();
  std::vector<SecretInfo> out;
  for (const auto& r : *rows) out.push_back({r.name, r.setAt, r.setBy});
  return out;
}

Status SecretBox::Remove(const std::string& app, const std::string& name) {
  LG_RETURN_IF_ERROR(ValidateName(app, "app name", "app"));
  LG_RETURN_IF_ERROR(ValidateName(name, "secret name", "name"));
  Status s = store_->DeleteSecret(app, name);
  if (!s.ok() && s.error().code == ErrorCode::kNotFound) {
    return Error::NotFound("secret " + name + " of " + app + " is not set; `lastgood secret list " +
                           app + "` shows those that are");
  }
  return s;
}

Result<std::optional<int64_t>> SecretBox::SetAt(const std::string& app, const std::string& name) {
  auto row = store_->GetSecret(app, name);
  if (!row.ok()) return row.error();
  if (!*row) return std::optional<int64_t>();
  return std::optional<int64_t>((*row)->setAt);
}

Result<std::string> SecretBox::Reveal(const std::string& app, const std::string& name) {
  auto row = store_->GetSecret(app, name);
  if (!row.ok()) return row.error();
  if (!*row) {
    return Error::NotFound("secret " + name + " of " + app + " is not set; " +
                           SetCommand(app, name) + " sets it (the value is read from stdin)");
  }
  auto key = Key(/*create=*/false);
  if (!key.ok()) return key.error();
  return Unseal(*key, app, name, (*row)->sealed);
}

std::vector<SecretValue> SecretBox::RevealAll(const std::string& app) {
  std::vector<SecretValue> out;
  auto rows = store_->ListSecrets(app);
  if (!rows.ok() || rows->empty()) return out;
  auto key = Key(/*create=*/false);
  if (!key.ok()) return out;
  for (const auto& r : *rows) {
    auto value = Unseal(*key, app, r.name, r.sealed);
    if (value.ok()) out.push_back({r.name, std::move(*value)});
  }
  return out;
}

}  // namespace lastgood
