// GET /v1/audit?app=APP&limit=N: the audit, newest first.
#include <charconv>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "api/audit_folder.h"
#include "api/handlers.h"
#include "api/json.h"
#include "api/verbs.h"
#include "base/clock.h"
#include "base/duration.h"
#include "base/names.h"
#include "store/store.h"

namespace lastgood {
namespace {

constexpr int kDefaultAuditLimit = 100;

// "90d" for whole days, else "12h", "30m" (as --audit-keep takes them).
std::string KeepText(Millis keep) {
  constexpr int64_t kDay = 86'400'000;
  if (keep.count() % kDay == 0) return std::to_string(keep.count() / kDay) + "d";
  return FormatDuration(keep);
}

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
  // Counts of refusals not written yet: what is listed is what happened.
  call.refusals.Flush(Clock::Real()->NowMillis());
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
                   {"message", e.message},
                   {"count", e.count},
                   {"lastAt", e.lastAt > 0 ? nlohmann::json(FormatTimestamp(e.lastAt))
                                           : nlohmann::json(nullptr)}});
  }
  return {200, DumpJson(out)};
}

void Api::Housekeep(int64_t now) {
  folder_->Flush(now);
  if (options_.auditKeep.count() <= 0 || now - last_prune_ < kAuditPruneIntervalMillis) return;
  last_prune_ = now;
  int64_t before = now - options_.auditKeep.count();
  AuditEntry record{0,
                    now,
                    "lastgood",
                    "controller",
                    "prune audit",
                    "",
                    200,
                    "deleted the rows older than " + FormatTimestamp(before) + " (--audit-keep " +
                        KeepText(options_.auditKeep) + ")"};
  auto pruned = store_->PruneAudit(before, record);
  if (!pruned.ok()) {
    std::fprintf(stderr, "lastgood serve: cannot prune the audit: %s\n",
                 pruned.error().message.c_str());
  }
}

}  // namespace lastgood
