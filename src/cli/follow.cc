// Following a deployment as it runs, and printing outcomes.
#include <iostream>
#include <set>

#include "base/percent_encode.h"
#include "cli/verbs.h"

namespace lastgood::cli {
namespace {

constexpr int kLongPollMillis = 10'000;

void PrintStep(const nlohmann::json& op, size_t index, size_t total) {
  std::cout << "  [" << index + 1 << "/" << total << "] " << op["step"].get<std::string>() << ": "
            << op["state"].get<std::string>();
  int64_t ms = op.value("durationMs", int64_t{0});
  if (ms > 0 || op["state"] == "Succeeded") std::cout << " in " << ShortDuration(ms);
  std::string detail = op.value("detail", "");
  if (!detail.empty()) std::cout << " — " << detail;
  std::cout << "\n" << std::flush;
}

// Follows one deployment to its end; returns its final record (or the error's exit code).
Result<nlohmann::json> Follow(const Globals& g, ApiClient& client, const std::string& app,
                              const std::string& name) {
  std::set<size_t> printed;
  uint64_t seq = 0;
  for (;;) {
    auto r = client.Get("/v1/apps/" + app + "/deployments/" + PercentEncode(name) + "?since=" +
                            std::to_string(seq) + "&wait=" + std::to_string(kLongPollMillis),
                        Millis(kLongPollMillis));
    if (!r.ok()) return r.error();
    const auto& d = *r;
    seq = d["changeSeq"].get<uint64_t>();
    const auto& ops = d["operations"];
    if (!g.json()) {
      for (size_t i = 0; i < ops.size(); ++i) {
        std::string st = ops[i]["state"];
        bool ended = st != "Pending" && st != "Running";
        if (ended && st != "Skipped" && !printed.count(i)) {
          PrintStep(ops[i], i, ops.size());
          printed.insert(i);
        }
      }
    }
    if (d["state"] != "Running") return d;
  }
}

}  // namespace

int FollowDeployment(const Globals& g, const std::string& app, const std::string& name,
                     nlohmann::json* final_record) {
  auto client = g.Client();
  auto d = Follow(g, client, app, name);
  if (!d.ok()) return Fail(g, d.error());
  *final_record = *d;
  const std::string state = (*d)["state"];
  if (!g.json()) {
    std::cout << app << ": deployment " << name << " " << state << " in "
              << ShortDuration((*d)["durationMs"].get<int64_t>());
    std::string reason = (*d)["reason"];
    if (state != "Succeeded" && !reason.empty()) std::cout << ": " << reason;
    if (state == "Succeeded")
      std::cout << "; v" << (*d)["version"] << " runs in " << (*d)["slot"].get<std::string>();
    std::cout << "\n";
  }
  // An automatic rollback follows a failure: follow it too, so the user sees where the
  // service ended up.
  std::string next = (*d)["followedBy"].is_string() ? (*d)["followedBy"].get<std::string>() : "";
  nlohmann::json* into = final_record;
  while (!next.empty()) {
    if (!g.json()) std::cout << app << ": automatic rollback " << next << " started\n";
    auto rb = Follow(g, client, app, next);
    if (!rb.ok()) return Fail(g, rb.error());
    (*into)["rollback"] = *rb;
    if (!g.json()) {
      std::cout << app << ": rollback " << next << " " << (*rb)["state"].get<std::string>()
                << " in " << ShortDuration((*rb)["durationMs"].get<int64_t>()) << "; "
                << (*rb)["slot"].get<std::string>() << " runs v" << (*rb)["version"] << "\n";
    }
    next = (*rb)["followedBy"].is_string() ? (*rb)["followedBy"].get<std::string>() : "";
    into = &(*into)["rollback"];
  }
  return state == "Succeeded" ? 0 : 1;
}

int ReportOutcome(const Globals& g, const nlohmann::json& o, bool no_wait,
                  const std::string& headline) {
  if (o["noop"].get<bool>() || o["whatIf"].get<bool>() || no_wait) {
    if (g.json())
      PrintJson(o);
    else
      PrintOutcome(o);
    return 0;
  }
  if (!g.json()) std::cout << headline << "\n";
  nlohmann::json record;
  int code = FollowDeployment(g, o["app"], o["deployment"], &record);
  if (g.json()) {
    nlohmann::json out = o;
    out["result"] = record;
    PrintJson(out);
  }
  return code;
}

void PrintOutcome(const nlohmann::json& o) {
  if (o["noop"].get<bool>()) {
    std::cout << o["message"].get<std::string>() << "\n";
    return;
  }
  if (o["whatIf"].get<bool>()) {
    std::cout << "what-if: " << o["message"].get<std::string>() << " (strategy "
              << o["strategy"].get<std::string>() << "); nothing was changed\nplan:\n";
    size_t i = 0;
    for (const auto& step : o["plan"]) {
      std::cout << "  [" << ++i << "/" << o["plan"].size() << "] " << step.get<std::string>()
                << "\n";
    }
    std::string diff = o["diff"];
    std::cout << (diff.empty() ? "no change to the manifest\n" : "diff:\n" + diff);
    return;
  }
  std::cout << o["app"].get<std::string>() << ": " << o["kind"].get<std::string>() << " to v"
            << o["version"] << " started as deployment "
            << (o["deployment"].is_string() ? o["deployment"].get<std::string>() : "-") << "\n";
}

}  // namespace lastgood::cli
