// Reading `route:`: the addresses the router listens on for the app.
#include <arpa/inet.h>

#include "base/cidr.h"
#include "manifest/sections.h"

namespace lastgood::manifest_internal {
namespace {

constexpr size_t kMaxTrustedProxies = 64;  // the router's own limit
constexpr int kMaxConnectionsPerClient = 1'000'000;

constexpr char kAddressHelp[] =
    "write host:port, like 127.0.0.1:8080; the host is 127.0.0.1, localhost, 0.0.0.0 or another "
    "IPv4 address, the port 1-65535";

bool IsHost(const std::string& host) {
  if (host == "localhost") return true;
  in_addr addr;
  return inet_pton(AF_INET, host.c_str(), &addr) == 1;
}

bool IsPort(const std::string& port) {
  if (port.empty() || port.size() > 5 || port[0] == '0') return false;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
  }
  int n = std::stoi(port);
  return n >= 1 && n <= 65535;
}

Result<std::string> ReadAddress(const FieldReader& r, const Field& f) {
  std::string address;
  LG_MANIFEST_ASSIGN(address, r.String(f));
  size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    return Error::InvalidInput("'" + address + "' has no port; " + kAddressHelp, f.path, f.line);
  }
  std::string host = address.substr(0, colon), port = address.substr(colon + 1);
  if (!IsHost(host)) {
    return Error::InvalidInput(
        "'" + host + "' is not a host this router can listen on; " + kAddressHelp, f.path, f.line);
  }
  if (!IsPort(port)) {
    return Error::InvalidInput("'" + port + "' is not a port; " + kAddressHelp, f.path, f.line);
  }
  return address;
}

Result<bool> ReadOnOff(const FieldReader& r, const Field& f) {
  std::string text;
  LG_MANIFEST_ASSIGN(text, r.String(f));
  if (text == "on" || text == "true") return true;
  if (text == "off" || text == "false") return false;
  return Error::InvalidInput("expected on or off, got '" + text + "'", f.path, f.line);
}

Result<std::vector<std::string>> ReadNetworks(const FieldReader& r, const Field& f) {
  if (!f.node.IsSequence()) {
    return Error::InvalidInput(
        "expected a list of networks, like [10.0.0.0/8, 192.168.1.7], got " + Describe(f.node),
        f.path, f.line);
  }
  if (f.node.size() > kMaxTrustedProxies) {
    return Error::InvalidInput("at most 64 networks", f.path, f.line);
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < f.node.size(); ++i) {
    Field item = f.Item(i, f.node[i]);
    std::string text;
    LG_MANIFEST_ASSIGN(text, r.NonEmptyString(item));
    auto cidr = ParseCidr(text, item.path);
    if (!cidr.ok()) return Error::InvalidInput(cidr.error().message, item.path, item.line);
    out.push_back(text);
  }
  return out;
}

}  // namespace

Result<Route> ReadRoute(const FieldReader& r, const Field& f) {
  Route route;
  MapFields fields;
  LG_MANIFEST_ASSIGN(fields, MapFields::Open(f, {"listen", "preview", "slotPinning",
                                                 "trustedProxies", "maxConnectionsPerClient"}));
  if (auto v = fields.Get("listen")) LG_MANIFEST_ASSIGN(route.listen, ReadAddress(r, *v));
  if (auto v = fields.Get("preview")) {
    LG_MANIFEST_ASSIGN(route.preview, ReadAddress(r, *v));
    if (route.preview == route.listen) {
      return Error::InvalidInput(
          "is the same address as route.listen; production and preview "
          "traffic need different ports",
          v->path, v->line);
    }
  }
  if (auto v = fields.Get("slotPinning")) LG_MANIFEST_ASSIGN(route.slotPinning, ReadOnOff(r, *v));
  if (auto v = fields.Get("trustedProxies"))
    LG_MANIFEST_ASSIGN(route.trustedProxies, ReadNetworks(r, *v));
  if (auto v = fields.Get("maxConnectionsPerClient"))
    LG_MANIFEST_ASSIGN(route.maxConnectionsPerClient, r.Int(*v, 0, kMaxConnectionsPerClient));
  return route;
}

}  // namespace lastgood::manifest_internal
