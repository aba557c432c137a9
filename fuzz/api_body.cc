// Fuzz target: the controller API's request bodies and error bodies (src/api/json.cc).
//
// The first byte picks a route (apply, rollback/rollforward, promote); the rest is the body,
// decoded with ParseRequestBody and its fields read with the types the handlers read them
// with (api/app_actions.cc). The error bodies the handlers build from the request's target and
// fields are dumped too, as the server does. Findings: a crash, an uncaught exception, a
// body accepted that is not an object of allowed fields, or one nested deeper than allowed.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <set>
#include <string>

#include "api/json.h"

namespace {

using lastgood::Error;
using nlohmann::json;

const std::set<std::string> kRoutes[] = {
    {"manifest", "manifestDir", "params", "name", "slot", "whatIf", "rollbackOnError"},
    {"to", "force", "whatIf", "slot"},
    {"version", "whatIf"},
    {"slot", "percent", "shares", "whatIf"},
};

// Reads a field as the handlers do (BodyField), and dumps the error they would answer.
template <typename T>
void ReadField(const json& j, const std::string& name) {
  auto field = lastgood::BodyField<T>(j, name);
  if (!field.ok()) (void)lastgood::ErrorJson(field.error()).dump();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto& allowed = kRoutes[data[0] % 4];
  std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);

  // What the handlers answer for a path they do not know, or an app name they refuse; and a
  // record that quotes odd bytes (a reason, an operation's detail).
  (void)lastgood::ErrorJson(Error::NotFound("no such API route: POST " + body)).dump();
  (void)lastgood::DumpJson({{"reason", body}, {"detail", {body, 1}}});

  auto parsed = lastgood::ParseRequestBody(body, allowed);
  if (!parsed.ok()) {
    (void)lastgood::ErrorJson(parsed.error()).dump();
    return 0;
  }
  const json& j = *parsed;
  if (!j.is_object()) abort();
  for (const auto& [key, value] : j.items()) {
    if (!allowed.count(key)) abort();
  }
  ReadField<std::string>(j, "manifest");
  ReadField<std::string>(j, "manifestDir");
  ReadField<std::map<std::string, std::string>>(j, "params");
  ReadField<std::string>(j, "name");
  ReadField<std::string>(j, "slot");
  ReadField<bool>(j, "whatIf");
  ReadField<bool>(j, "force");
  ReadField<std::string>(j, "rollbackOnError");
  ReadField<int>(j, "to");
  ReadField<int>(j, "version");
  ReadField<int>(j, "percent");
  ReadField<std::map<std::string, int>>(j, "shares");
  (void)j.dump();
  return 0;
}
