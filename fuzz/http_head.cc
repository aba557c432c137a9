// Fuzz target: the router's request parsing and framing rules (src/router/http_head.cc),
// driven as the proxy drives them (router/proxy_session.cc): ScanHead over the bytes as they
// arrive, MessageHead over the complete head, then the body relayed in the framing chosen
// for the next hop.
//
// Input: one byte of options (request or response; the size of the pieces the bytes arrive
// in), then the bytes a client (or a backend) sends. Findings, besides crashes and undefined
// behaviour: ScanHead answering differently when the bytes arrive in pieces; an accepted
// head that breaks a framing rule (Transfer-Encoding with Content-Length, a coding other than
// chunked, no or several Host fields in HTTP/1.1, more fields than allowed, a field with CR or
// LF in it); and a body that re-framed as chunks does not decode to the same bytes as the
// body forwarded with a length (what the next hop reads must be what the router read).
#include "router/http_head.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "router/traffic_split.h"

namespace {

using namespace lastgood;

constexpr size_t kMaxHeadBytes = 16 * 1024;  // router.h: kDefaultMaxHeaderBytes
constexpr size_t kMaxFields = 100;           // router.h: kDefaultMaxHeaderFields

void Check(bool ok, const char* what) {
  if (!ok) {
    fprintf(stderr, "framing rule broken: %s\n", what);
    abort();
  }
}

// ScanHead as ReadHead calls it: resumed after every read of `piece` bytes.
ScanResult ScanInPieces(std::string_view in, size_t piece, size_t* head_size) {
  size_t scanned = 0, have = 0;
  for (;;) {
    have = std::min(in.size(), have + piece);
    ScanResult r = ScanHead(in.data(), have, &scanned, head_size);
    if (r != ScanResult::kNeedMore || have == in.size()) return r;
  }
}

struct Relayed {
  bool ok = false;
  std::string body;
};

// Parses the head (already scanned complete: `head_size` bytes), then relays the body in
// `framing`, feeding `rest` in pieces as Relay does.
template <bool isRequest>
std::optional<Relayed> ParseAndRelay(std::string_view in, size_t head_size, size_t piece,
                                     BodyFraming framing, bool check_rules) {
  std::vector<HeadField> fields;
  MessageHead<isRequest> msg(&fields, kMaxFields);
  msg.header_limit(static_cast<uint32_t>(head_size + 1));
  boost::system::error_code ec;
  msg.put(boost::asio::buffer(in.data(), head_size), ec);
  if (ec || !msg.is_header_done()) {
    HeadError e = msg.Refusal(ec);
    Check(HeadErrorStatus(e) >= 400 && HeadErrorText(e) != nullptr, "refusal without a status");
    return std::nullopt;
  }
  if (check_rules) {
    int hosts = 0, te = 0, cl = 0;
    Check(fields.size() <= kMaxFields, "more fields than the limit");
    for (const HeadField& f : fields) {
      if (f.name == http::field::host) ++hosts;
      if (f.name == http::field::content_length) ++cl;
      if (f.name == http::field::transfer_encoding) {
        ++te;
        Check(ListHasToken(f.value, "chunked"), "a coding other than chunked");
      }
      Check(f.value.find_first_of("\r\n") == std::string_view::npos, "CR or LF in a field");
      (void)msg.IsHopByHop(f);
    }
    Check(!(te > 0 && cl > 0), "Transfer-Encoding with Content-Length");
    Check(te <= 1, "several Transfer-Encoding fields");
    if (isRequest) {
      Check(hosts <= 1, "several Host fields");
      Check(msg.version < 11 || hosts == 1, "HTTP/1.1 without Host");
      (void)QueryValue(msg.target, kSlotQueryParameter);
      (void)CookieValue(msg.cookie, kSlotCookie);
    }
  }

  // As Relay does: bytes arrive `piece` at a time into a buffer; the parser consumes what
  // it can (eagerly) and what it consumed leaves the buffer, even when it then wants more.
  Relayed out;
  std::string_view rest = in.substr(head_size);
  std::string arrived;
  size_t fed = 0;
  msg.SetBodyOutput(&out.body, framing);
  msg.eager(true);
  for (;;) {
    while (!msg.is_done() && !arrived.empty()) {
      size_t n = msg.put(boost::asio::buffer(arrived), ec);
      arrived.erase(0, n);
      if (ec == http::error::need_more) break;
      if (ec) return out;
      if (n == 0) break;
    }
    if (msg.is_done() || fed == rest.size()) break;
    size_t more = std::min(piece, rest.size() - fed);
    arrived.append(rest.substr(fed, more));
    fed += more;
  }
  ec = {};
  if (!msg.is_done() && msg.need_eof()) msg.put_eof(ec);
  out.ok = msg.is_done() && !ec;
  return out;
}

// Decodes a chunked body as the next hop would.
std::optional<std::string> Dechunk(const std::string& chunked) {
  std::string head = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  std::string msg = head + chunked + std::string(kLastChunk);
  auto r = ParseAndRelay<true>(msg, head.size(), msg.size(), BodyFraming::kLength, false);
  if (!r || !r->ok) return std::nullopt;
  return r->body;
}

template <bool isRequest>
void Run(std::string_view in, size_t piece) {
  size_t head_size = 0;
  ScanResult pieces = ScanInPieces(in, piece, &head_size);
  size_t whole_size = 0;
  ScanResult whole = ScanInPieces(in, in.size() ? in.size() : 1, &whole_size);
  Check(pieces == whole, "ScanHead differs when the bytes arrive in pieces");
  if (whole != ScanResult::kComplete) return;
  Check(head_size == whole_size, "ScanHead finds another end of head in pieces");
  Check(head_size <= in.size() && in.substr(head_size - 4, 4) == "\r\n\r\n", "head end");
  if (head_size > kMaxHeadBytes) return;  // refused (431) before parsing

  auto plain = ParseAndRelay<isRequest>(in, head_size, piece, BodyFraming::kLength, true);
  if (!plain || !plain->ok) return;
  auto chunked = ParseAndRelay<isRequest>(in, head_size, piece, BodyFraming::kChunked, false);
  Check(chunked && chunked->ok, "a body relayed in one framing fails in the other");
  auto decoded = Dechunk(chunked->body);
  Check(decoded.has_value(), "the re-chunked body does not parse");
  Check(*decoded == plain->body, "the re-chunked body decodes to other bytes");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 64 * 1024) return 0;
  const uint8_t options = data[0];
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  const size_t piece = 1 + (options >> 1) % 64;
  if (options & 1) {
    Run<false>(in, piece);
  } else {
    Run<true>(in, piece);
  }
  return 0;
}
