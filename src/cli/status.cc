// `lastgood status` and `lastgood apps`.
#include <cstdio>
#include <iostream>

#include "base/names.h"
#include "cli/verbs.h"

namespace lastgood::cli {
namespace {

// "analysis (now): window 10s, at least 100 requests; errors ≤ 1.00%, p99 ≤ 300ms".
void PrintAnalysis(const nlohmann::json& a) {
  const auto& l = a["limits"];
  std::string limits;
  char buf[64];
  if (!l["maxErrorRate"].is_null()) {
    std::snprintf(buf, sizeof buf, "errors ≤ %.2f%%", 100 * l["maxErrorRate"].get<double>());
    limits += buf;
  }
  if (!l["maxLatencyP99Ms"].is_null())
    limits += (limits.empty() ? "" : ", ") + ("p99 ≤ " + l["maxLatencyP99Ms"].dump() + "ms");
  if (!l["maxErrorRateIncrease"].is_null()) {
    std::snprintf(buf, sizeof buf, "errors ≤ stable + %.2f%%",
                  100 * l["maxErrorRateIncrease"].get<double>());
    limits += (limits.empty() ? "" : ", ") + std::string(buf);
  }
  std::cout << "analysis"
            << (a["active"].get<bool>() ? " (running now)"
                : a["step"].is_null()   ? " (production's manifest)"
                                        : " (next)");
  if (a.value("judge", "") == "sequential" && a["sequential"].is_object()) {
    // "judge sequential: canary ≤ stable + 2.00 points, p99 ≤ stable's + 20%; false alarms
    // 0.1%; at most window 30s + progressDeadline".
    const auto& j = a["sequential"];
    const auto& t = j["tolerance"];
    std::snprintf(buf, sizeof buf, "errors ≤ stable + %.2f points",
                  100 * t["errorRate"].get<double>());
    std::string tolerance = buf;
    if (!t["latencyPercent"].is_null())
      tolerance += ", p99 ≤ stable's + " + t["latencyPercent"].dump() + "%";
    if (!t["latencyAddedMs"].is_null())
      tolerance += ", p99 ≤ stable's + " + t["latencyAddedMs"].dump() + "ms";
    std::snprintf(buf, sizeof buf, "%g%%", 100 * j["falseAlarmRate"].get<double>());
    std::cout << ": judge sequential, " << tolerance << "; false alarms " << buf
              << "; undecided after window " << ShortDuration(a["windowMs"].get<int64_t>())
              << " + progressDeadline\n";
    return;
  }
  std::cout << ": window " << ShortDuration(a["windowMs"].get<int64_t>()) << ", at least "
            << a["minRequests"] << " requests; " << limits << "\n";
}

// "  and prometheus at http://…: error-rate ≤ 0.01, rps ≥ 5": the analysis' queries' limits.
void PrintPrometheus(const nlohmann::json& a) {
  if (!a.contains("prometheus") || !a["prometheus"].is_object()) return;
  const auto& p = a["prometheus"];
  std::string limits;
  for (const auto& q : p.value("queries", nlohmann::json::array())) {
    std::string name = q.value("name", "?");
    auto add = [&](const char* op, const nlohmann::json& v) {
      if (v.is_number()) limits += (limits.empty() ? "" : ", ") + name + " " + op + " " + v.dump();
    };
    add("≥", q.value("min", nlohmann::json()));
    add("≤", q.value("max", nlohmann::json()));
  }
  std::cout << "  and prometheus at " << p.value("address", "?") << ": " << limits << "\n";
}

void PrintStatus(const nlohmann::json& s) {
  std::cout << "app " << s["app"].get<std::string>() << "   last good: "
            << (s["lastGood"].is_null() ? "-" : "v" + std::to_string(s["lastGood"].get<int>()))
            << "\n";
  if (s.contains("confinement") && s["confinement"].is_object()) {
    const auto& c = s["confinement"];
    std::string runs_as = c.value("runsAs", "");
    std::cout << "confinement: " << c.value("mode", "?")
              << (runs_as.empty() ? "" : ", runs as " + runs_as)
              << (c.value("mode", "") == "none" ? " — " + c.value("detail", "") : "") << "\n";
  }
  if (!s["deployment"].is_null()) {
    const auto& d = s["deployment"];
    std::cout << "running: " << d["name"].get<std::string>() << " (" << d["kind"].get<std::string>()
              << " to v" << d["version"] << "), step: " << d["step"].get<std::string>() << "\n";
    if (d.contains("detail") && !d["detail"].get<std::string>().empty())
      std::cout << "  " << d["detail"].get<std::string>() << "\n";
  }
  if (s.contains("analysis") && s["analysis"].is_object()) {
    PrintAnalysis(s["analysis"]);
    PrintPrometheus(s["analysis"]);
  }
  for (const auto& l : s.value("listeners", nlohmann::json::array())) {
    if (l.value("bound", true)) continue;
    std::cout << "NOT LISTENING on " << l["address"].get<std::string>() << " ("
              << l["slot"].get<std::string>() << "): " << l.value("error", "")
              << " — the router tries again every second; free the address or change route\n";
  }
  for (const auto& [slot, v] : s["slots"].items()) {
    std::cout << "slot " << slot << ": "
              << (v["version"].is_null() ? "nothing"
                                         : "v" + std::to_string(v["version"].get<int>()))
              << ", weight " << v["weight"];
    if (v.contains("canary") && v["canary"].is_object()) {
      std::cout << ", canary v" << v["canary"]["version"] << " at " << v["canary"]["weight"] << "%";
    }
    if (v.contains("swapPending") && v["swapPending"].is_object()) {
      std::cout << ", swap from " << v["swapPending"]["source"].get<std::string>()
                << " in preview (swap --complete or --cancel)";
    }
    std::cout << "\n";
    // A fleet app: each host, what it runs and whether it answers (docs/fleets.md).
    if (v.contains("hosts") && v["hosts"].is_array() && !v["hosts"].empty()) {
      std::vector<std::vector<std::string>> hosts = {
          {"  HOST", "VERSION", "REACHABLE", "INSTANCES", "LISTENING"}};
      std::string unbound;  // the hosts' addresses their routers could not bind, with why
      for (const auto& h : v["hosts"]) {
        int n = 0;
        for (const auto& i : v["instances"]) n += i.value("host", "") == h["name"] ? 1 : 0;
        std::string reach = h["reachable"].get<bool>() ? "yes" : "no";
        if (h.contains("problem") && h["problem"].is_string())
          reach += " (" + h["problem"].get<std::string>() + ")";
        // Each of the slot's route addresses on that host's router: bound, or NOT.
        std::string listening;
        for (const auto& l : h.value("listeners", nlohmann::json::array())) {
          const std::string address = l.value("address", "");
          const bool bound = l.value("bound", false);
          listening += (listening.empty() ? "" : ", ") + address + (bound ? "" : " NOT BOUND");
          if (!bound)
            unbound += "NOT LISTENING on " + address + " on host " + h["name"].get<std::string>() +
                       ": " + l.value("error", "") +
                       " — its router tries again every second; free the address there or "
                       "change route\n";
        }
        hosts.push_back(
            {"  " + h["name"].get<std::string>(),
             h["version"].is_null() ? "-" : "v" + std::to_string(h["version"].get<int>()), reach,
             std::to_string(n), listening.empty() ? "-" : listening});
      }
      PrintTable(hosts);
      std::cout << unbound;
    }
    bool fleet = false;
    for (const auto& i : v["instances"]) fleet = fleet || i.value("host", "local") != "local";
    std::vector<std::vector<std::string>> rows = {
        {"  INSTANCE", "VERSION", "ADDRESS", "STATE", "PID", "RESTARTS"}};
    if (fleet) rows[0].insert(rows[0].begin() + 1, "HOST");
    for (const auto& i : v["instances"]) {
      std::vector<std::string> row = {"  " + i["id"].get<std::string>(),
                                      "v" + std::to_string(i["version"].get<int>()),
                                      i["address"],
                                      i["state"],
                                      std::to_string(i["pid"].get<int>()),
                                      std::to_string(i["restarts"].get<int>())};
      if (fleet) row.insert(row.begin() + 1, i.value("host", "local"));
      rows.push_back(std::move(row));
    }
    if (rows.size() > 1) PrintTable(rows);
  }
}

}  // namespace

void AddStatusVerbs(CLI::App& app, Globals& g, int* exit_code) {
  auto sapp = std::make_shared<std::string>();
  auto* status =
      app.add_subcommand("status", "what each slot of the app runs, and what is under way");
  status->add_option("app", *sapp, "the app")->required();
  status->callback([&g, sapp, exit_code] {
    if (auto s = ValidateName(*sapp, "app name"); !s.ok())
      return void(*exit_code = Fail(g, s.error()));
    auto r = g.Client().Get("/v1/apps/" + *sapp);
    if (!r.ok()) return void(*exit_code = Fail(g, r.error()));
    if (g.json()) return PrintJson(*r);
    PrintStatus(*r);
    // What the router measured, when there is one (the numbers a canary is judged by).
    auto t = g.Client().Get("/v1/apps/" + *sapp + "/traffic?window=10s");
    if (!t.ok() || (*t)["versions"].empty()) return;
    std::cout << "traffic, last 10s (router):\n";
    std::vector<std::vector<std::string>> rows = {
        {"  SLOT", "VERSION", "REQ/S", "ERRORS", "P50", "P99"}};
    char buf[64];
    for (const auto& v : (*t)["versions"]) {
      std::vector<std::string> row = {"  " + v["slot"].get<std::string>(),
                                      "v" + std::to_string(v["version"].get<int>()) +
                                          (v.value("pinned", false) ? " pinned" : "")};
      std::snprintf(buf, sizeof buf, "%.1f", v["ratePerSecond"].get<double>());
      row.push_back(buf);
      std::snprintf(buf, sizeof buf, "%.2f%%", 100 * v["errorRate"].get<double>());
      row.push_back(buf);
      std::snprintf(buf, sizeof buf, "%.2fms", v["latencyMs"]["p50"].get<double>());
      row.push_back(buf);
      std::snprintf(buf, sizeof buf, "%.2fms", v["latencyMs"]["p99"].get<double>());
      row.push_back(buf);
      rows.push_back(row);
    }
    PrintTable(rows);
  });
  auto* apps = app.add_subcommand("apps", "every app with what production runs");
  apps->callback([&g, exit_code] {
    auto r = g.Client().Get("/v1/apps");
    if (!r.ok()) return void(*exit_code = Fail(g, r.error()));
    if (g.json()) return PrintJson(*r);
    std::vector<std::vector<std::string>> rows = {
        {"APP", "PRODUCTION", "LAST GOOD", "RUNNING DEPLOYMENT"}};
    for (const auto& s : *r) {
      std::string prod = "-";
      if (s["slots"].contains("production") && !s["slots"]["production"]["version"].is_null())
        prod = "v" + std::to_string(s["slots"]["production"]["version"].get<int>());
      rows.push_back(
          {s["app"], prod,
           s["lastGood"].is_null() ? "-" : "v" + std::to_string(s["lastGood"].get<int>()),
           s["deployment"].is_null() ? "-" : s["deployment"]["name"].get<std::string>()});
    }
    PrintTable(rows);
  });
}

}  // namespace lastgood::cli
