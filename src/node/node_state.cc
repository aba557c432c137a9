#include "node/node_state.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/fd.h"
#include "node/sealed_env.h"
#include "targets/remote/node_wire.h"

namespace lastgood {
namespace {

using json = nlohmann::json;

Status WriteAll(int fd, const std::string& data, const std::string& path) {
  for (size_t done = 0; done < data.size();) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::Unavailable("cannot write " + path + ": " + std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

}  // namespace

Status NodeState::Load() {
  std::ifstream in(path_);
  if (!in) return Status::Ok();
  std::stringstream text;
  text << in.rdbuf();
  auto j = json::parse(text.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("instances") ||
      !j["instances"].is_array()) {
    return Error::InvalidInput(path_ + " is not a node state file; move it away to start afresh");
  }
  instances_.clear();
  for (const auto& item : j["instances"]) {
    if (!item.is_object() || !item.contains("spec") || !item.contains("handle"))
      return Error::InvalidInput(path_ + " holds a malformed instance");
    json spec_json = item["spec"];
    std::vector<std::string> refused;
    if (spec_json.is_object() && spec_json.contains("id") && spec_json["id"].is_string()) {
      OpenSecretEnv(key_ ? &*key_ : nullptr, spec_json["id"].get<std::string>(), &spec_json,
                    &refused);
    }
    auto spec = SpecFromJson(spec_json);
    auto handle = HandleFromJson(item["handle"]);
    if (!spec.ok()) return Error::InvalidInput(path_ + ": " + spec.error().message);
    if (!handle.ok()) return Error::InvalidInput(path_ + ": " + handle.error().message);
    spec->logDir = item.value("logDir", "");
    instances_[spec->id] = {*spec, *handle, std::move(refused)};
  }
  return Status::Ok();
}

Status NodeState::Save() const {
  json list = json::array();
  for (const auto& [id, rec] : instances_) {
    json spec = SpecToJson(rec.spec);
    if (!rec.spec.verbatimEnv.empty()) {
      if (!key_) {
        return Error::Unavailable("instance " + id +
                                  " has secret variables and the node has no key to seal them");
      }
      LG_RETURN_IF_ERROR(SealSecretEnv(*key_, id, &spec));
    }
    list.push_back({{"spec", std::move(spec)},
                    {"logDir", rec.spec.logDir},
                    {"handle", HandleToJson(rec.handle)}});
  }
  const std::string text = json{{"instances", list}}.dump(1) + "\n";
  const std::string tmp = path_ + ".tmp";
  {
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (fd.get() < 0)
      return Error::Unavailable("cannot write " + tmp + ": " + std::strerror(errno));
    LG_RETURN_IF_ERROR(WriteAll(fd.get(), text, tmp));
    if (::fsync(fd.get()) != 0)
      return Error::Unavailable("cannot sync " + tmp + ": " + std::strerror(errno));
  }
  if (::rename(tmp.c_str(), path_.c_str()) != 0)
    return Error::Unavailable("cannot replace " + path_ + ": " + std::strerror(errno));
  std::string dir = std::filesystem::path(path_).parent_path().string();
  Fd dfd(::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd.get() >= 0) ::fsync(dfd.get());
  return Status::Ok();
}

}  // namespace lastgood
