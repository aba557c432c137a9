#include "base/fault.h"

#include <cerrno>
#include <cstdlib>
#include <map>

namespace lastgood {
namespace {

// The errno names a fault may use: resource faults, which is what the seam is for.
const std::map<std::string, int, std::less<>>& ErrnoNames() {
  static const auto* names = new std::map<std::string, int, std::less<>>{
      {"ENOSPC", ENOSPC}, {"EDQUOT", EDQUOT}, {"EIO", EIO},       {"EMFILE", EMFILE},
      {"ENFILE", ENFILE}, {"ENOMEM", ENOMEM}, {"EACCES", EACCES}, {"EROFS", EROFS}};
  return *names;
}

std::map<std::string, int, std::less<>> Parse(const char* spec) {
  std::map<std::string, int, std::less<>> points;
  std::string_view rest = spec == nullptr ? "" : spec;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? "" : rest.substr(comma + 1);
    size_t eq = item.find('=');
    if (eq == std::string_view::npos) continue;
    auto e = ErrnoNames().find(item.substr(eq + 1));
    if (e != ErrnoNames().end()) points[std::string(item.substr(0, eq))] = e->second;
  }
  return points;
}

const std::map<std::string, int, std::less<>>& Points() {
  static const auto* points =
      new std::map<std::string, int, std::less<>>(Parse(std::getenv(kFaultsEnv)));
  return *points;
}

}  // namespace

int InjectedFault(std::string_view name) {
  const auto& points = Points();
  if (points.empty()) return 0;
  auto it = points.find(name);
  return it == points.end() ? 0 : it->second;
}

std::string InjectedFaults() {
  std::string out;
  for (const auto& [point, err] : Points()) {
    for (const auto& [errno_name, value] : ErrnoNames()) {
      if (value == err) out += (out.empty() ? "" : ",") + point + "=" + errno_name;
    }
  }
  return out;
}

}  // namespace lastgood
