#include "request.h"

#include <algorithm>
#include <charconv>

namespace sample {

namespace {

// Longest chunk-size line (size plus extensions) that we wait for before calling it garbage.
constexpr size_t kMaxChunkLine = 4096;

bool IsTokenChar(unsigned char c) {
  if (c >= 'a' && c <= 'z') return true;
  if (c >= 'A' && c <= 'Z') return true;
  if (c >= '0' && c <= '9') return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

bool IsToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return IsTokenChar(c); });
}

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != b[i]) return false;  // b is lower case
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Calls `fn` for each comma-separated, trimmed, non-empty element of a header value.
template <typename Fn>
void ForEachElement(std::string_view value, Fn fn) {
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view element = Trim(value.substr(0, comma));
    if (!element.empty()) fn(element);
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
}

// Returns the line at `pos` without its line end and moves `pos` past it, or false when the
// line is not complete yet.
bool NextLine(std::string_view in, size_t& pos, std::string_view& line) {
  size_t nl = in.find('\n', pos);
  if (nl == std::string_view::npos) return false;
  line = in.substr(pos, nl - pos);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  pos = nl + 1;
  return true;
}

HeadParse Fail(int status) {
  HeadParse p;
  p.status = ParseStatus::kError;
  p.error_status = status;
  return p;
}

bool ParseRequestLine(std::string_view line, RequestHead& head, int& error) {
  error = 400;
  size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return false;
  size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return false;
  head.method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (!IsToken(head.method) || target.empty()) return false;
  if (target.find_first_of(" \t\r") != std::string_view::npos) return false;
  // Absolute form ("http://host/path") must be accepted too (RFC 9112 3.2.2).
  for (std::string_view scheme : {"http://", "https://"}) {
    if (target.substr(0, scheme.size()) == scheme) {
      size_t slash = target.find('/', scheme.size());
      target = slash == std::string_view::npos ? "/" : target.substr(slash);
    }
  }
  if (target.front() != '/') return false;
  head.path = target.substr(0, target.find('?'));
  if (version == "HTTP/1.1") {
    head.http11 = true;
  } else if (version == "HTTP/1.0") {
    head.http11 = false;
  } else {
    bool looks_like_http = version.size() == 8 && version.substr(0, 5) == "HTTP/" &&
                           version[6] == '.' && version[5] >= '0' && version[5] <= '9' &&
                           version[7] >= '0' && version[7] <= '9';
    if (looks_like_http) error = 505;
    return false;
  }
  return true;
}

}  // namespace

HeadParse ParseHead(std::string_view in) {
  size_t pos = 0;
  std::string_view line;
  // Clients may send a stray CRLF after a body; skip a few such lines.
  do {
    if (!NextLine(in, pos, line)) {
      return in.size() >= kMaxHeadBytes ? Fail(431) : HeadParse{};
    }
  } while (line.empty() && pos <= 8);
  HeadParse p;
  RequestHead& head = p.head;
  int error = 400;
  if (!ParseRequestLine(line, head, error)) return Fail(error);

  bool connection_close = false, connection_keep_alive = false, has_host = false;
  bool has_length = false, has_transfer_encoding = false;
  while (true) {
    if (!NextLine(in, pos, line)) {
      return in.size() >= kMaxHeadBytes ? Fail(431) : HeadParse{};
    }
    if (pos > kMaxHeadBytes) return Fail(431);
    if (line.empty()) break;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return Fail(400);
    std::string_view name = line.substr(0, colon);
    std::string_view value = Trim(line.substr(colon + 1));
    if (!IsToken(name)) return Fail(400);  // also refuses whitespace before the colon
    if (EqualsNoCase(name, "content-length")) {
      uint64_t length = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), length);
      if (value.empty() || ec != std::errc() || end != value.data() + value.size()) {
        return Fail(400);
      }
      if (has_length && length != head.content_length) return Fail(400);
      has_length = true;
      head.content_length = length;
    } else if (EqualsNoCase(name, "transfer-encoding")) {
      has_transfer_encoding = true;
      std::string_view last;
      ForEachElement(value, [&](std::string_view e) { last = e; });
      // In a request, chunked must be the final coding (RFC 9112 6.3); other codings under
      // it do not matter because the body is thrown away.
      if (!EqualsNoCase(last, "chunked")) return Fail(400);
      head.chunked = true;
    } else if (EqualsNoCase(name, "connection")) {
      ForEachElement(value, [&](std::string_view e) {
        if (EqualsNoCase(e, "close")) connection_close = true;
        if (EqualsNoCase(e, "keep-alive")) connection_keep_alive = true;
      });
    } else if (EqualsNoCase(name, "host")) {
      has_host = true;
    } else if (EqualsNoCase(name, "expect")) {
      head.expect_continue = EqualsNoCase(value, "100-continue");
    }
  }
  if (has_length && has_transfer_encoding) return Fail(400);
  if (head.http11 && !has_host) return Fail(400);  // RFC 9112 3.2: a MUST for servers
  head.keep_alive = head.http11 ? !connection_close : (connection_keep_alive && !connection_close);
  p.status = ParseStatus::kComplete;
  p.consumed = pos;
  return p;
}

void BodyDiscarder::StartLength(uint64_t length) {
  remaining_ = length;
  state_ = length == 0 ? State::kDone : State::kLength;
}

void BodyDiscarder::StartChunked() {
  state_ = State::kChunkSize;
  trailer_bytes_ = 0;
}

BodyDiscarder::Step BodyDiscarder::Consume(std::string_view in) {
  Step step;
  size_t pos = 0;
  std::string_view line;
  while (true) {
    switch (state_) {
      case State::kDone:
        step.done = true;
        step.consumed = pos;
        return step;
      case State::kLength:
      case State::kChunkData: {
        uint64_t take = std::min<uint64_t>(remaining_, in.size() - pos);
        pos += take;
        remaining_ -= take;
        if (remaining_ > 0) {
          step.consumed = pos;
          return step;
        }
        state_ = state_ == State::kLength ? State::kDone : State::kChunkDataEnd;
        break;
      }
      case State::kChunkSize:
      case State::kChunkDataEnd:
      case State::kTrailer: {
        size_t start = pos;
        if (!NextLine(in, pos, line)) {
          step.error = in.size() - start > kMaxChunkLine;
          step.consumed = start;
          return step;
        }
        if (state_ == State::kChunkDataEnd) {
          if (!line.empty()) {
            step.error = true;
            return step;
          }
          state_ = State::kChunkSize;
        } else if (state_ == State::kTrailer) {
          trailer_bytes_ += pos - start;
          if (trailer_bytes_ > kMaxHeadBytes) {
            step.error = true;
            return step;
          }
          if (line.empty()) state_ = State::kDone;
        } else {
          uint64_t size = 0;
          size_t digits = line.find_first_not_of("0123456789abcdefABCDEF");
          if (digits == std::string_view::npos) digits = line.size();
          // 15 hex digits keep the size below 2^60, far from overflow.
          if (digits == 0 || digits > 15) {
            step.error = true;
            return step;
          }
          std::from_chars(line.data(), line.data() + digits, size, 16);
          std::string_view rest = Trim(line.substr(digits));
          if (!rest.empty() && rest.front() != ';') {
            step.error = true;
            return step;
          }
          remaining_ = size;
          state_ = size == 0 ? State::kTrailer : State::kChunkData;
        }
        break;
      }
    }
  }
}

}  // namespace sample
