#include "cli/output.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "api/controller.h"
#include "wire/json_text.h"

namespace lastgood::cli {

std::string Globals::Home() const { return ResolveHome(home); }

std::string Globals::ClientHome() const {
  std::string own = Home();
  std::error_code ec;
  if (!home.empty() || std::getenv("LASTGOOD_HOME") != nullptr ||
      std::filesystem::exists(own + "/api.sock", ec) ||
      !std::filesystem::exists(std::string(kPackagedHome) + "/api.sock", ec))
    return own;
  return kPackagedHome;
}

ApiClient Globals::Client() const {
  Connection c{ClientHome() + "/api.sock", server, "", cacert, "", json()};
  c.insecure = insecure;
  c.answerTimeout = timeout;
  c.connectTimeout = std::min(kDefaultConnectTimeout, timeout);
  if (server.empty()) return ApiClient(c);
  if (!tokenFile.empty()) {
    std::ifstream in(tokenFile);
    std::getline(in, c.token);
    if (!in && c.token.empty()) c.problem = "cannot read the token file " + tokenFile;
    while (!c.token.empty() && std::isspace(static_cast<unsigned char>(c.token.back())))
      c.token.pop_back();
  } else if (const char* t = std::getenv("LASTGOOD_TOKEN"); t != nullptr) {
    c.token = t;
  }
  return ApiClient(c);
}

int Fail(const Globals& g, const Error& e) {
  if (g.json()) {
    std::cerr << DumpJson(ErrorJson(e)) << "\n";
  } else {
    std::cerr << "lastgood: " << e.ToString() << "\n";
  }
  return ExitCodeFor(e.code);
}

void PrintJson(const nlohmann::json& j) { std::cout << DumpJsonIndented(j, 2) << "\n"; }

void PrintTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      if (widths.size() <= i) widths.push_back(0);
      widths[i] = std::max(widths[i], row[i].size());
    }
  }
  std::string out;
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      out += row[i];
      if (i + 1 < row.size()) out += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    out += "\n";
  }
  std::cout << out;
}

std::string ShortTime(const nlohmann::json& t) {
  if (!t.is_string()) return "-";
  std::string s = t.get<std::string>();
  if (s.size() >= 19) {
    s = s.substr(0, 19);
    s[10] = ' ';
  }
  return s;
}

std::string ShortDuration(int64_t ms) {
  if (ms < 1000) return std::to_string(ms) + "ms";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2fs", ms / 1000.0);
  return buf;
}

}  // namespace lastgood::cli
