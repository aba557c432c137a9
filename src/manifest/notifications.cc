// Reading `notifications:`: the webhooks told about deployment events.
//
// A url is checked here rather than when a delivery fails, because a typo found at `apply`
// costs a second and one found during an incident costs the notification.
#include <arpa/inet.h>

#include <algorithm>
#include <iterator>

#include "manifest/sections.h"

namespace lastgood::manifest_internal {
namespace {

constexpr char kUrlHelp[] =
    "write http://host[:port][/path], like http://127.0.0.1:9000/hooks/lastgood";

std::vector<std::string> AllEvents() {
  return {std::begin(kWebhookEvents), std::end(kWebhookEvents)};
}

std::string JoinEvents() {
  std::string all;
  for (const char* e : kWebhookEvents) all += (all.empty() ? "" : ", ") + std::string(e);
  return all;
}

bool IsDigits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A DNS name (letters, digits, '-' in labels of 1-63) or an IPv4 / bracketed IPv6 address.
bool IsHost(const std::string& host) {
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    in6_addr addr;
    return inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), &addr) == 1;
  }
  if (host.empty() || host.size() > 253) return false;
  bool numeric = true;
  size_t start = 0;
  while (start <= host.size()) {
    size_t dot = std::min(host.find('.', start), host.size());
    std::string label = host.substr(start, dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      bool ok =
          (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
      if (!ok) return false;
    }
    numeric = numeric && IsDigits(label);
    start = dot + 1;
  }
  in_addr addr;
  return !numeric || inet_pton(AF_INET, host.c_str(), &addr) == 1;
}

}  // namespace

Result<std::string> ReadHttpUrl(const FieldReader& r, const Field& f, const char* help) {
  std::string url;
  LG_MANIFEST_ASSIGN(url, r.NonEmptyString(f));
  auto bad = [&](const std::string& why) {
    return Error::InvalidInput("'" + url + "' " + why + "; " + help, f.path, f.line);
  };
  if (url.size() > kMaxWebhookUrlBytes) {
    return Error::InvalidInput("the url is " + std::to_string(url.size()) +
                                   " bytes; the limit is " + std::to_string(kMaxWebhookUrlBytes),
                               f.path, f.line);
  }
  for (char c : url) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return bad("holds a space, control or non-ASCII character");
  }
  size_t rest = 0;
  if (url.rfind("http://", 0) == 0) {
    rest = 7;
  } else if (url.rfind("https://", 0) == 0) {
    rest = 8;
  } else {
    return bad("does not start with http:// or https://");
  }
  size_t end = std::min(url.find_first_of("/?#", rest), url.size());
  std::string authority = url.substr(rest, end - rest);
  if (authority.find('@') != std::string::npos) {
    return bad(
        "holds credentials; they would be stored in every version and shown by `show` and "
        "`diff`: sign deliveries with secretEnv instead");
  }
  if (url.find('#') != std::string::npos) return bad("has a #fragment, which is never sent");
  std::string host = authority, port;
  size_t colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']', colon) == std::string::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (!IsDigits(port) || port.size() > 5 || port[0] == '0' || std::stoi(port) > 65535) {
      return bad("has '" + port + "' where a port 1-65535 belongs");
    }
  }
  if (!IsHost(host)) return bad("has '" + host + "' where a host name or IP address belongs");
  return url;
}

namespace {

Result<std::string> ReadUrl(const FieldReader& r, const Field& f) {
  return ReadHttpUrl(r, f, kUrlHelp);
}

Result<std::vector<std::string>> ReadEvents(const FieldReader& r, const Field& f) {
  if (!f.node.IsSequence()) {
    return Error::InvalidInput(
        "expected a list of events, like [failed, rolledBack], got " + Describe(f.node), f.path,
        f.line);
  }
  if (f.node.size() == 0) {
    return Error::InvalidInput(
        "is empty, so nothing would ever be sent; remove events to be told of all of them", f.path,
        f.line);
  }
  std::vector<std::string> known = AllEvents(), events;
  for (size_t i = 0; i < f.node.size(); ++i) {
    Field item = f.Item(i, f.node[i]);
    std::string event;
    LG_MANIFEST_ASSIGN(event, r.String(item));
    if (std::find(known.begin(), known.end(), event) == known.end()) {
      std::string msg = "'" + event + "' is not an event; the events are " + JoinEvents();
      if (auto close = ClosestMatch(event, known)) msg += "; did you mean '" + *close + "'?";
      return Error::InvalidInput(msg, item.path, item.line);
    }
    if (std::find(events.begin(), events.end(), event) != events.end()) {
      return Error::InvalidInput("'" + event + "' is listed twice", item.path, item.line);
    }
    events.push_back(event);
  }
  return events;
}

Result<std::string> ReadSecretEnv(const FieldReader& r, const Field& f) {
  std::string name;
  LG_MANIFEST_ASSIGN(name, r.NonEmptyString(f));
  bool ok = !(name[0] >= '0' && name[0] <= '9');
  for (char c : name) {
    ok = ok &&
         ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
  }
  if (!ok) {
    return Error::InvalidInput("'" + name +
                                   "' is not an environment variable name; give the name of the "
                                   "variable that holds the key (not the key itself), like "
                                   "LASTGOOD_WEBHOOK_SECRET",
                               f.path, f.line);
  }
  const std::string prefix = kWebhookSecretEnvPrefix;
  if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) {
    return Error::InvalidInput(
        "'" + name + "' does not start with " + prefix +
            ": a webhook may be signed only with a variable meant for it, never with another "
            "of the controller's variables; set the key as, say, " +
            prefix + "SECRET in the environment of lastgood serve and name that",
        f.path, f.line);
  }
  return name;
}

Result<Webhook> ReadWebhook(const FieldReader& r, const Field& f) {
  Webhook hook;
  MapFields fields;
  LG_MANIFEST_ASSIGN(fields, MapFields::Open(f, {"url", "events", "secretEnv"}));
  auto url = fields.Get("url");
  if (!url) {
    return Error::InvalidInput(std::string("missing url; ") + kUrlHelp, f.path + ".url",
                               f.key_line);
  }
  LG_MANIFEST_ASSIGN(hook.url, ReadUrl(r, *url));
  hook.events = AllEvents();
  if (auto v = fields.Get("events")) LG_MANIFEST_ASSIGN(hook.events, ReadEvents(r, *v));
  if (auto v = fields.Get("secretEnv")) LG_MANIFEST_ASSIGN(hook.secretEnv, ReadSecretEnv(r, *v));
  return hook;
}

}  // namespace

Result<Notifications> ReadNotifications(const FieldReader& r, const Field& f) {
  Notifications out;
  MapFields fields;
  LG_MANIFEST_ASSIGN(fields, MapFields::Open(f, {"webhooks"}));
  auto list = fields.Get("webhooks");
  if (!list) return out;
  if (!list->node.IsSequence()) {
    return Error::InvalidInput(
        "expected a list of webhooks (- url: http://…), got " + Describe(list->node), list->path,
        list->line);
  }
  if (list->node.size() > static_cast<size_t>(kMaxWebhooks)) {
    return Error::InvalidInput("has more than " + std::to_string(kMaxWebhooks) +
                                   " webhooks; send them to one receiver that fans out",
                               list->path, list->line);
  }
  for (size_t i = 0; i < list->node.size(); ++i) {
    Webhook hook;
    LG_MANIFEST_ASSIGN(hook, ReadWebhook(r, list->Item(i, list->node[i])));
    out.webhooks.push_back(std::move(hook));
  }
  return out;
}

}  // namespace lastgood::manifest_internal
