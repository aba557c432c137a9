// GET /v1/audit?app=APP&limit=N: the audit, newest first.
#include <charconv>
#include <nlohmann/json.hpp>

#include "api/handlers.h"
#include "api/json.h"
#include "base/clock.h"
#include "base/names.h"

namespace lastgood {
namespace {

constexpr int kDefaultAuditLimit = 100;

// The value of `key` in the query of `target`, or nullopt.
std::optional<std::string> QueryValue(const std::string& target, const std::string& key) {
  size_t q = target.find('?');
  if (q == std::string::npos) return std::nullopt;
  std::string query = target.substr(q + 1);
  size_t i = 0;
  while (i <= query.size()) {
    size_t amp = query.find('&', i);
    if (amp == std::string::npos) amp = query.size();
    std::string pair = query.substr(i, amp - i);
    size_t eq = pair.find('=');
    if (pair.substr(0, eq) == key) return eq == std::string::npos ? "" : pair.substr(eq + 1);
    i = amp + 1;
  }
  return std::nullopt;
}

}  // namespace

ApiResponse Api::Audit(const ApiRequest& req) {
  if (req.method != "GET") {
    return ErrorResponse(Error::NotFound("no such API route: " + req.method + " /v1/audit"));
  }
  std::string app = QueryValue(req.target, "app").value_or("");
  if (!app.empty()) {
    if (auto s = ValidateName(app, "app name", "app"); !s.ok()) return ErrorResponse(s.error());
  }
  int limit = kDefaultAuditLimit;
  if (auto text = QueryValue(req.target, "limit")) {
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), limit);
    if (ec != std::errc() || end != text->data() + text->size() || limit < 1 ||
        limit > kMaxHistoryLimit) {
      return ErrorResponse(
          Error::InvalidInput("limit must be a whole number from 1 to 10000", "limit"));
    }
  }
  auto entries = store_->ListAudit(app, limit);
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
