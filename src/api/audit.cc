// GET /v1/audit?app=APP&limit=N: the audit, newest first.
#include <charconv>
#include <nlohmann/json.hpp>

#include "api/handlers.h"
#include "api/json.h"
#include "api/verbs.h"
#include "base/clock.h"
#include "base/names.h"
#include "store/store.h"

namespace lastgood {
namespace {

constexpr int kDefaultAuditLimit = 100;

}  // namespace

ApiResponse ListAudit(const RouteCall& call) {
  std::string app = call.Query("app").value_or("");
  if (!app.empty()) {
    if (auto s = ValidateName(app, "app name", "app"); !s.ok()) return ErrorResponse(s.error());
  }
  int limit = kDefaultAuditLimit;
  if (auto text = call.Query("limit")) {
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), limit);
    if (ec != std::errc() || end != text->data() + text->size() || limit < 1 ||
        limit > kMaxHistoryLimit) {
      return ErrorResponse(
          Error::InvalidInput("limit must be a whole number from 1 to 10000", "limit"));
    }
  }
  auto entries = call.store.ListAudit(app, limit);
  if (!entries.ok()) return ErrorResponse(entries.error());
  nlohmann::json out = nlohmann::json::array();
  for (const auto& e : *entries) {
    out.push_back({{"id", e.id},
                   {"at", FormatTimestamp(e.at)},
                   {"actor", e.actor},
                   {"from", e.from},
                   {"action", e.action},
                   {"app", e.app.empty() ? nlohmann::json(nullptr) : nlohmann::json(e.app)},
                   {"status", e.status},
                   {"result", e.status < 400                       ? "ok"
                              : e.status == 401 || e.status == 403 ? "refused"
                                                                   : "error"},
                   {"message", e.message}});
  }
  return {200, DumpJson(out)};
}

}  // namespace lastgood
