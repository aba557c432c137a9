#include "node/sealed_env.h"

#include "secrets/key_file.h"

namespace lastgood {
namespace {

using json = nlohmann::json;

bool IsSecret(const json& e) {
  return e.is_object() && e.contains("verbatim") && e["verbatim"].is_boolean() &&
         e["verbatim"].get<bool>();
}

}  // namespace

Result<SecretKey> LoadOrCreateNodeKey(const std::string& home) {
  return LoadOrCreateKey(home + "/" + kNodeKeyFileName);
}

Status SealSecretEnv(const SecretKey& key, const std::string& id, json* spec) {
  if (!spec->contains("env") || !(*spec)["env"].is_array()) return Status::Ok();
  for (auto& e : (*spec)["env"]) {
    if (!IsSecret(e) || !e.contains("value") || !e["value"].is_string()) continue;
    auto sealed = Seal(key, id, e.value("name", ""), e["value"].get<std::string>());
    if (!sealed.ok()) {
      return Error::Unavailable("cannot seal variable " + e.value("name", "") + " of instance " +
                                id + ": " + sealed.error().message);
    }
    e.erase("value");
    e["sealed"] = *sealed;
  }
  return Status::Ok();
}

void OpenSecretEnv(const SecretKey* key, const std::string& id, json* spec,
                   std::vector<std::string>* refused) {
  if (!spec->contains("env") || !(*spec)["env"].is_array()) return;
  json kept = json::array();
  for (auto& e : (*spec)["env"]) {
    if (!e.is_object() || !e.contains("sealed")) {
      kept.push_back(std::move(e));
      continue;
    }
    const std::string name = e.value("name", "");
    if (key == nullptr || !e["sealed"].is_string()) {
      refused->push_back(name + ": no key to open it with");
      continue;
    }
    auto value = Unseal(*key, id, name, e["sealed"].get<std::string>());
    if (!value.ok()) {
      // Unseal's words speak of the controller's store; the node's own are clearer here.
      refused->push_back(name +
                         ": its sealed value does not open with this node's key (secrets.key): "
                         "altered, moved from another instance, or sealed with another key");
      continue;
    }
    e.erase("sealed");
    e["value"] = std::move(*value);
    kept.push_back(std::move(e));
  }
  (*spec)["env"] = std::move(kept);
}

void HideSecretValues(json* spec) {
  if (!spec->contains("env") || !(*spec)["env"].is_array()) return;
  for (auto& e : (*spec)["env"]) {
    if (!IsSecret(e)) continue;
    e["value"] = "";
    e["secret"] = true;
  }
}

}  // namespace lastgood
