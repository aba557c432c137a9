// The routes of lastgood-sample, rendered straight into a connection's output buffer:
//   GET /           200 "<label>\nserved by pid N\n", or 500 with probability --fail-rate;
//                   delayed by --latency-ms
//   GET /healthz    200 "ok\n", or 500 "unhealthy\n" with --healthy false
//   GET /env/NAME   200 "<value of $NAME>\n", 404 when unset
//   anything else   404; methods other than GET and HEAD get 405
// Every response carries Content-Length and X-Lastgood-Label; HEAD gets the headers of GET.
//
// Thread-safety: not thread-safe (the fail-rate generator has state); one per event loop.
#pragma once

#include <cstdint>
#include <string>

#include "flags.h"
#include "request.h"

namespace sample {

class Responder {
 public:
  explicit Responder(const Options& options);

  struct Rendered {
    bool delayed = false;  // hold the response for --latency-ms before sending it
  };

  // Appends the response to `head` to `out`; `keep_alive` decides the Connection header.
  Rendered Render(const RequestHead& head, bool keep_alive, std::string& out);
  // Appends an error response (400, 431, …) that announces Connection: close.
  void RenderError(int status, std::string& out);

 private:
  void Append(int status, std::string_view body, bool head_only, bool keep_alive, bool http11,
              std::string& out);
  bool RollFailure();

  // Constant after construction.
  const Options options_;
  std::string root_body_;
  std::string fail_body_;
  uint64_t fail_threshold_ = 0;     // a roll below this fails; 0 never, UINT64_MAX always
  std::string root_ok_keep_alive_;  // the whole response for the common HTTP/1.1 GET /
  std::string root_fail_keep_alive_;

  uint64_t rng_state_;
};

}  // namespace sample
