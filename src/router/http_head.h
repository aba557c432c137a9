// Parsing and rewriting of HTTP/1.1 message heads for the proxy, without heap allocation on
// the request path once a connection's buffers have grown.
//
// MessageHead is a Beast basic_parser that keeps string_views into the caller's buffer
// instead of copying fields, applies the router's framing rules (docs/router.md, "Hostile
// input") while the fields are parsed, and writes decoded body bytes straight into an
// output string in the framing chosen for the next hop. The views stay valid as long as the
// bytes of the head are not moved: parse a head only once it is complete in one buffer
// (ScanHead), and finish using the views before reading more into that buffer.
// Not thread-safe; one per message.
#pragma once

#include <boost/beast/http/basic_parser.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lastgood {

namespace http = boost::beast::http;

using BeastView = boost::beast::string_view;

struct HeadField {
  http::field name;
  std::string_view name_string, value;
};

// Why a head is refused; each maps to a status and a short text (FramingStatus/Text).
enum class HeadError {
  kNone,
  kMalformed,        // 400: the parser refused it
  kBareLf,           // 400: a line ends in LF without CR
  kObsFold,          // 400: a field value continues on the next line
  kTooLarge,         // 431: the head exceeds the size limit
  kTooManyFields,    // 431: more fields than the limit
  kAmbiguousLength,  // 400: Content-Length with Transfer-Encoding, or differing lengths
  kBadChunk,         // 400: a chunk size that does not parse
  kUnknownCoding,    // 501: a Transfer-Encoding other than exactly "chunked"
  kBadHost,          // 400: no Host in HTTP/1.1, or more than one
  kBadTarget,        // 400: a target neither a path nor an http(s) URL (NormaliseTarget)
};
int HeadErrorStatus(HeadError e);
const char* HeadErrorText(HeadError e);

enum class ScanResult { kNeedMore, kComplete, kBareLf, kObsFold };
// Looks for the end of a head ("\r\n\r\n") in data[0, size), resuming at *scanned (0 at
// first). On kComplete, *head_size is the head's length including the blank line. Rejects a
// bare LF anywhere and obs-fold (a line starting with SP/HT).
ScanResult ScanHead(const char* data, size_t size, size_t* scanned, size_t* head_size);

// How a body is written to the next hop.
enum class BodyFraming { kNone, kLength, kChunked, kUntilClose };

template <bool isRequest>
class MessageHead : public http::basic_parser<isRequest> {
 public:
  // `fields` is reused storage (cleared here); `body_out` receives the decoded body in
  // the framing set by SetBodyOutput.
  MessageHead(std::vector<HeadField>* fields, size_t max_fields);

  void SetBodyOutput(std::string* out, BodyFraming framing) {
    body_out_ = out;
    out_framing_ = framing;
  }
  // The refusal reason if the last put() failed, from the parser's error or our rules.
  HeadError Refusal(const boost::system::error_code& ec) const;

  // Start line.
  http::verb method = http::verb::unknown;
  std::string_view method_string, target, reason;
  int version = 11, status = 0;
  // Fields the router reads or rewrites.
  std::string_view host, cookie, slot_header, upgrade_value, expect;
  std::vector<HeadField>* fields;
  int connection_fields = 0;  // Connection headers whose tokens name extra hop-by-hop fields

  bool HasBody() const { return has_body_; }
  bool IsHopByHop(const HeadField& f) const;

 private:
  void on_request_impl(http::verb method, BeastView method_str, BeastView target, int version,
                       boost::system::error_code& ec) override;
  void on_response_impl(int code, BeastView reason, int version,
                        boost::system::error_code& ec) override;
  void on_field_impl(http::field name, BeastView name_string, BeastView value,
                     boost::system::error_code& ec) override;
  void on_header_impl(boost::system::error_code& ec) override;
  void on_body_init_impl(const boost::optional<std::uint64_t>&,
                         boost::system::error_code&) override {
    has_body_ = true;
  }
  size_t on_body_impl(BeastView body, boost::system::error_code& ec) override;
  void on_chunk_header_impl(std::uint64_t, BeastView, boost::system::error_code&) override {}
  size_t on_chunk_body_impl(std::uint64_t remain, BeastView body,
                            boost::system::error_code& ec) override;
  void on_finish_impl(boost::system::error_code&) override {}

  size_t max_fields_;
  int host_fields_ = 0, te_fields_ = 0;
  bool has_body_ = false;
  HeadError rule_error_ = HeadError::kNone;
  std::string* body_out_ = nullptr;
  BodyFraming out_framing_ = BodyFraming::kLength;
};

using RequestHead = MessageHead<true>;
using ResponseHead = MessageHead<false>;

// Appends a chunk ("hex CRLF data CRLF") to `out`.
void AppendChunk(std::string* out, std::string_view data);
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

// Case-insensitive ASCII comparison.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
// Whether the comma-separated list `list` contains `token` (case-insensitive).
bool ListHasToken(std::string_view list, std::string_view token);

}  // namespace lastgood
