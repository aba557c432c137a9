// Incremental parsing of HTTP/1.x requests for lastgood-sample: the request head, and the
// request body, which the sample never uses and so only discards (Content-Length or chunked).
//
// Parsing never copies: the string_views in RequestHead point into the caller's buffer and are
// valid only until that buffer changes. Thread-safety: pure functions and plain values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sample {

// Larger heads are refused with 431, as the brief of the sample asks.
constexpr size_t kMaxHeadBytes = 16 * 1024;

struct RequestHead {
  std::string_view method;
  std::string_view path;  // the request target without its query string
  bool http11 = true;     // false for HTTP/1.0
  bool keep_alive = true;
  bool chunked = false;
  bool expect_continue = false;
  uint64_t content_length = 0;
};

enum class ParseStatus { kIncomplete, kComplete, kError };

struct HeadParse {
  ParseStatus status = ParseStatus::kIncomplete;
  size_t consumed = 0;   // bytes of the head, including the empty line, when kComplete
  int error_status = 0;  // 400, 431, 501 or 505 when kError
  RequestHead head;
};

// Parses the head at the front of `in`. Empty lines before the request line are skipped and
// bare LF line ends are accepted (RFC 9112 2.2). A request with both Transfer-Encoding and
// Content-Length is refused (400) rather than guessed at, because guessing is how requests
// get smuggled past proxies.
HeadParse ParseHead(std::string_view in);

// Skips one request body, fed in pieces. Chunk extensions and trailers are skipped too.
class BodyDiscarder {
 public:
  struct Step {
    size_t consumed = 0;  // bytes of `in` that belonged to the body
    bool done = false;    // the whole body has been seen
    bool error = false;   // malformed chunked framing; the connection must close
  };

  void StartLength(uint64_t length);
  void StartChunked();
  // Consumes body bytes from the front of `in`; stops at the end of the body.
  Step Consume(std::string_view in);

 private:
  enum class State { kDone, kLength, kChunkSize, kChunkData, kChunkDataEnd, kTrailer };
  State state_ = State::kDone;
  uint64_t remaining_ = 0;
  size_t trailer_bytes_ = 0;
};

}  // namespace sample
