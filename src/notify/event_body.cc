// The webhook body and its signature: the two things a receiver relies on, documented in
// docs/notifications.md.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "notify/notifier.h"

namespace lastgood {

std::string EventBody(const DeploymentEvent& e) {
  nlohmann::json body = {
      {"event", e.event},
      {"app", e.app},
      {"deployment", e.deployment},
      {"slot", e.slot},
      {"version", e.version},
      {"fromVersion", e.fromVersion > 0 ? nlohmann::json(e.fromVersion) : nlohmann::json()},
      {"kind", e.kind},
      {"strategy", e.strategy},
      {"trigger", e.trigger},
      {"actor", e.actor},
      {"state", e.state},
      {"reason", e.reason},
      {"at", e.at},
      {"time", FormatTimestamp(e.at)},
  };
  // Invalid UTF-8 (a reason quoting a process's output) is replaced, never a failed send.
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string FinalEventFor(const std::string& state) {
  if (state == "Succeeded") return "succeeded";
  if (state == "Failed") return "failed";
  if (state == "RolledBack") return "rolledBack";
  if (state == "Canceled") return "canceled";
  return "";
}

std::string SignBody(const std::string& key, const std::string& body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "sha256=";
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[mac[i] >> 4];
    out += kHex[mac[i] & 0xf];
  }
  return out;
}

}  // namespace lastgood
