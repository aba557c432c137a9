#include "router/forwarding.h"

#include "base/names.h"
#include "router/http_head.h"

namespace lastgood {

bool NormaliseTarget(http::verb method, std::string_view* host, std::string_view* target,
                     std::string* storage) {
  std::string_view t = *target;
  if (!t.empty() && t.front() == '/') return true;
  if (t == "*") return method == http::verb::options;
  size_t scheme_end = t.find("://");
  if (scheme_end == std::string_view::npos) return false;
  std::string_view scheme = t.substr(0, scheme_end);
  if (!EqualsIgnoreCase(scheme, "http") && !EqualsIgnoreCase(scheme, "https")) return false;
  std::string_view rest = t.substr(scheme_end + 3);
  size_t authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  if (authority.empty() || authority.find('@') != std::string_view::npos) return false;
  *host = authority;
  if (authority_end == std::string_view::npos) {
    *target = "/";
  } else if (rest[authority_end] == '/') {
    *target = rest.substr(authority_end);
  } else {
    storage->assign("/");
    storage->append(rest.substr(authority_end));
    *target = *storage;
  }
  return true;
}

bool StripSessionCookies(std::string_view cookie, std::string* out) {
  if (cookie.find(kSessionCookiePrefix) == std::string_view::npos) return false;
  std::string kept;
  while (!cookie.empty()) {
    size_t semi = cookie.find(';');
    std::string_view pair = cookie.substr(0, semi);
    while (!pair.empty() && (pair.front() == ' ' || pair.front() == '\t')) pair.remove_prefix(1);
    if (!pair.empty() && pair.substr(0, kSessionCookiePrefix.size()) != kSessionCookiePrefix) {
      if (!kept.empty()) kept += "; ";
      kept.append(pair);
    }
    if (semi == std::string_view::npos) break;
    cookie.remove_prefix(semi + 1);
  }
  *out = std::move(kept);
  return true;
}

ForwardingField ClassifyForwardingField(std::string_view name) {
  if (name.size() < 9) return ForwardingField::kNone;
  if (EqualsIgnoreCase(name, "x-forwarded-for")) return ForwardingField::kFor;
  if (EqualsIgnoreCase(name, "x-forwarded-proto")) return ForwardingField::kProto;
  if (EqualsIgnoreCase(name, "x-forwarded-host")) return ForwardingField::kHost;
  if (EqualsIgnoreCase(name, "forwarded") || EqualsIgnoreCase(name, "x-real-ip") ||
      EqualsIgnoreCase(name, "x-forwarded-port")) {
    return ForwardingField::kOther;
  }
  return ForwardingField::kNone;
}

}  // namespace lastgood
