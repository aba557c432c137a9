#include "responder.h"

#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdlib>
#include <string_view>

namespace sample {

namespace {

std::string_view Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

void AppendNumber(uint64_t n, std::string& out) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n);
  out.append(digits, end);
}

}  // namespace

Responder::Responder(const Options& options) : options_(options) {
  root_body_ = options.label + "\nserved by pid " + std::to_string(getpid()) + "\n";
  fail_body_ = options.label + "\nfailing on purpose\n";
  if (options.fail_rate >= 1) {
    fail_threshold_ = UINT64_MAX;
  } else if (options.fail_rate > 0) {
    fail_threshold_ = static_cast<uint64_t>(options.fail_rate * 18446744073709551616.0);
  }
  Append(200, root_body_, false, true, true, root_ok_keep_alive_);
  Append(500, fail_body_, false, true, true, root_fail_keep_alive_);
  rng_state_ = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
               (static_cast<uint64_t>(getpid()) << 32) ^ 0x9e3779b97f4a7c15ULL;
}

// splitmix64: fast, and good enough to decide which responses fail.
bool Responder::RollFailure() {
  if (fail_threshold_ == 0) return false;
  if (fail_threshold_ == UINT64_MAX) return true;
  uint64_t z = (rng_state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return (z ^ (z >> 31)) < fail_threshold_;
}

Responder::Rendered Responder::Render(const RequestHead& head, bool keep_alive, std::string& out) {
  bool head_only = head.method == "HEAD";
  if (!head_only && head.method != "GET") {
    Append(405, "method not allowed\n", false, keep_alive, head.http11, out);
    return {};
  }
  std::string_view path = head.path;
  if (path == "/") {
    bool fail = RollFailure();
    if (!head_only && keep_alive && head.http11) {
      out += fail ? root_fail_keep_alive_ : root_ok_keep_alive_;
    } else {
      Append(fail ? 500 : 200, fail ? fail_body_ : root_body_, head_only, keep_alive, head.http11,
             out);
    }
    return {options_.latency_ms > 0};
  }
  if (path == "/healthz") {
    Append(options_.healthy ? 200 : 500, options_.healthy ? "ok\n" : "unhealthy\n", head_only,
           keep_alive, head.http11, out);
    return {};
  }
  constexpr std::string_view kEnvPrefix = "/env/";
  if (path.size() > kEnvPrefix.size() && path.substr(0, kEnvPrefix.size()) == kEnvPrefix) {
    // The name is taken verbatim (no percent-decoding): variable names are plain ASCII.
    std::string name(path.substr(kEnvPrefix.size()));
    if (const char* value = std::getenv(name.c_str())) {
      std::string body = std::string(value) + "\n";
      Append(200, body, head_only, keep_alive, head.http11, out);
      return {};
    }
  }
  Append(404, "not found\n", head_only, keep_alive, head.http11, out);
  return {};
}

void Responder::RenderError(int status, std::string& out) {
  std::string body = std::string(Reason(status)) + "\n";
  Append(status, body, false, false, true, out);
}

void Responder::Append(int status, std::string_view body, bool head_only, bool keep_alive,
                       bool http11, std::string& out) {
  out += "HTTP/1.1 ";
  AppendNumber(status, out);
  out += ' ';
  out += Reason(status);
  out += "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ";
  AppendNumber(body.size(), out);
  out += "\r\nX-Lastgood-Label: ";
  out += options_.label;
  if (status == 405) out += "\r\nAllow: GET, HEAD";
  if (!keep_alive) {
    out += "\r\nConnection: close";
  } else if (!http11) {
    out += "\r\nConnection: keep-alive";  // HTTP/1.0 clients close unless told otherwise
  }
  out += "\r\n\r\n";
  if (!head_only) out += body;
}

}  // namespace sample
