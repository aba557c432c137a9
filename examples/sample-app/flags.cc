#include "flags.h"

#include <arpa/inet.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string_view>

namespace sample {

const char kUsage[] =
    "usage: lastgood-sample --port N [--host ADDR] [--label S] [--fail-rate F]\n"
    "                       [--latency-ms N] [--startup-ms N] [--crash-on-start true|false]\n"
    "                       [--healthy true|false]\n"
    "  --port defaults to $PORT; --host to 127.0.0.1; --label to v1.\n";

namespace {

// An hour is far beyond any sensible demo delay; the cap keeps deadlines from overflowing.
constexpr int64_t kMaxDelayMs = 3'600'000;
constexpr size_t kMaxLabelLength = 256;

bool ParseInt(std::string_view text, int64_t min, int64_t max, int64_t& out) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return false;
  }
  out = value;
  return true;
}

bool ParseBool(std::string_view text, bool& out) {
  if (text == "true") {
    out = true;
  } else if (text == "false") {
    out = false;
  } else {
    return false;
  }
  return true;
}

bool ParseRate(const std::string& text, double& out) {
  if (text.empty()) return false;
  char* end = nullptr;
  errno = 0;
  double value = std::strtod(text.c_str(), &end);
  if (errno != 0 || *end != '\0' || !std::isfinite(value) || value < 0 || value > 1) return false;
  out = value;
  return true;
}

// The label goes verbatim into a response header, so it must not be able to break one.
bool ValidLabel(std::string_view label) {
  if (label.empty() || label.size() > kMaxLabelLength) return false;
  for (unsigned char c : label) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

bool ValidHost(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// Applies one flag; returns an error message or "".
std::string Apply(std::string_view name, const std::string& value, Options& o) {
  int64_t n = 0;
  if (name == "port") {
    if (!ParseInt(value, 0, 65535, n)) return "--port wants an integer in 0..65535";
    o.port = static_cast<int>(n);
  } else if (name == "host") {
    if (!ValidHost(value)) return "--host wants an IPv4 or IPv6 address literal";
    o.host = value;
  } else if (name == "label") {
    if (!ValidLabel(value)) return "--label wants 1..256 printable characters";
    o.label = value;
  } else if (name == "fail-rate") {
    if (!ParseRate(value, o.fail_rate)) return "--fail-rate wants a number in 0..1";
  } else if (name == "latency-ms") {
    if (!ParseInt(value, 0, kMaxDelayMs, o.latency_ms)) {
      return "--latency-ms wants an integer in 0..3600000";
    }
  } else if (name == "startup-ms") {
    if (!ParseInt(value, 0, kMaxDelayMs, o.startup_ms)) {
      return "--startup-ms wants an integer in 0..3600000";
    }
  } else if (name == "crash-on-start") {
    if (!ParseBool(value, o.crash_on_start)) return "--crash-on-start wants true or false";
  } else if (name == "healthy") {
    if (!ParseBool(value, o.healthy)) return "--healthy wants true or false";
  } else {
    return "unknown flag --" + std::string(name);
  }
  return "";
}

}  // namespace

FlagsOutcome ParseFlags(int argc, const char* const* argv, const char* env_port) {
  FlagsOutcome result;
  Options& o = result.options;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.size() < 3 || arg.substr(0, 2) != "--") {
      result.error = "unexpected argument '" + std::string(arg) + "'";
      return result;
    }
    arg.remove_prefix(2);
    std::string_view name = arg;
    std::string value;
    if (size_t eq = arg.find('='); eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = std::string(arg.substr(eq + 1));
    } else {
      // A missing value must not silently swallow the next flag.
      if (i + 1 >= argc || std::string_view(argv[i + 1]).substr(0, 2) == "--") {
        result.error = "--" + std::string(name) + " needs a value";
        return result;
      }
      value = argv[++i];
    }
    if (std::string error = Apply(name, value, o); !error.empty()) {
      result.error = error;
      return result;
    }
  }
  if (o.port < 0) {
    if (env_port == nullptr) {
      result.error = "--port is required (or set PORT)";
      return result;
    }
    int64_t n = 0;
    if (!ParseInt(env_port, 0, 65535, n)) {
      result.error = "PORT wants an integer in 0..65535";
      return result;
    }
    o.port = static_cast<int>(n);
  }
  return result;
}

}  // namespace sample
