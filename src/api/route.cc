#include "api/route.h"

namespace lastgood {
namespace {

// "/v1/apps/web" → {"v1", "apps", "web"}; empty segments ("//") are kept, so that
// "/v1/apps//rollback" matches nothing rather than "/v1/apps/rollback".
std::vector<std::string> Segments(const std::string& path) {
  std::vector<std::string> out;
  if (path.empty() || path[0] != '/') return {"?"};
  size_t i = 1;
  while (true) {
    size_t j = path.find('/', i);
    out.push_back(path.substr(i, j == std::string::npos ? std::string::npos : j - i));
    if (j == std::string::npos) break;
    i = j + 1;
  }
  if (out.size() > 1 && out.back().empty()) out.pop_back();  // a trailing '/'
  return out;
}

}  // namespace

std::map<std::string, std::string> ParseQuery(const std::string& query) {
  std::map<std::string, std::string> out;
  size_t k = 0;
  while (k < query.size()) {
    size_t amp = query.find('&', k);
    if (amp == std::string::npos) amp = query.size();
    std::string kv = query.substr(k, amp - k);
    size_t eq = kv.find('=');
    if (eq != std::string::npos) {
      out.emplace(kv.substr(0, eq), kv.substr(eq + 1));
    } else if (!kv.empty()) {
      out.emplace(kv, "");
    }
    k = amp + 1;
  }
  return out;
}

std::optional<std::string> RouteCall::Query(const std::string& key) const {
  auto it = query.find(key);
  if (it == query.end()) return std::nullopt;
  return it->second;
}

const ApiRoute* MatchRoute(const std::vector<ApiRoute>& routes, const std::string& method,
                           const std::string& target, std::map<std::string, std::string>* path,
                           std::map<std::string, std::string>* query) {
  size_t q = target.find('?');
  std::vector<std::string> segments = Segments(target.substr(0, q));
  for (const ApiRoute& route : routes) {
    if (route.method != method) continue;
    std::vector<std::string> pattern = Segments(route.pattern);
    if (pattern.size() != segments.size()) continue;
    std::map<std::string, std::string> params;
    bool match = true;
    for (size_t i = 0; match && i < pattern.size(); ++i) {
      const std::string& p = pattern[i];
      if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
        if (segments[i].empty()) match = false;
        params[p.substr(1, p.size() - 2)] = segments[i];
      } else {
        match = p == segments[i];
      }
    }
    if (!match) continue;
    *path = std::move(params);
    *query = ParseQuery(q == std::string::npos ? "" : target.substr(q + 1));
    return &route;
  }
  return nullptr;
}

}  // namespace lastgood
