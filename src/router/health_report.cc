#include "router/health_report.h"

#include <nlohmann/json.hpp>

namespace lastgood {

using nlohmann::json;

std::string HealthToJson(const RouterHealth& h) {
  json listeners = json::array();
  for (const auto& l : h.listeners) {
    json jl{{"address", l.address}, {"bound", l.bound}};
    if (!l.bound) jl["error"] = l.error;
    listeners.push_back(std::move(jl));
  }
  return json{{"generation", h.generation},
              {"pid", h.pid},
              {"buildId", h.buildId},
              {"statsSince", h.statsSinceMillis},
              {"listeners", std::move(listeners)}}
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<RouterHealth> HealthFromJson(const std::string& text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Error::InvalidInput("health is not a JSON object");
  try {
    RouterHealth h;
    h.generation = j.value("generation", uint64_t{0});
    h.pid = j.value("pid", 0);
    h.buildId = j.value("buildId", "");
    h.statsSinceMillis = j.value("statsSince", int64_t{0});
    for (const auto& l : j.value("listeners", json::array())) {
      h.listeners.push_back(
          {l.value("address", ""), l.value("bound", false), l.value("error", "")});
    }
    return h;
  } catch (const json::exception& e) {
    return Error::InvalidInput(std::string("health has a field of the wrong type: ") + e.what());
  }
}

}  // namespace lastgood
