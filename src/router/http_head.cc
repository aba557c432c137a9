#include "router/http_head.h"

#include <cstring>

namespace lastgood {

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

}  // namespace

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

bool ListHasToken(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view item = Trim(list.substr(0, comma));
    if (EqualsIgnoreCase(item, token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

int HeadErrorStatus(HeadError e) {
  switch (e) {
    case HeadError::kTooLarge:
    case HeadError::kTooManyFields:
      return 431;
    case HeadError::kUnknownCoding:
      return 501;
    default:
      return 400;
  }
}

const char* HeadErrorText(HeadError e) {
  switch (e) {
    case HeadError::kNone:
      return "ok\n";
    case HeadError::kMalformed:
      return "malformed request\n";
    case HeadError::kBareLf:
      return "line ends without CR\n";
    case HeadError::kObsFold:
      return "folded header line\n";
    case HeadError::kTooLarge:
      return "request header too large\n";
    case HeadError::kTooManyFields:
      return "too many header fields\n";
    case HeadError::kAmbiguousLength:
      return "ambiguous message length\n";
    case HeadError::kBadChunk:
      return "bad chunk\n";
    case HeadError::kUnknownCoding:
      return "transfer-encoding other than chunked\n";
    case HeadError::kBadHost:
      return "missing or repeated Host\n";
    case HeadError::kBadTarget:
      return "the request target must be a path or an http(s) URL\n";
  }
  return "bad request\n";
}

ScanResult ScanHead(const char* data, size_t size, size_t* scanned, size_t* head_size) {
  size_t i = *scanned;
  while (i < size) {
    const void* hit = memchr(data + i, '\n', size - i);
    if (!hit) break;
    size_t lf = static_cast<const char*>(hit) - data;
    if (lf == 0 || data[lf - 1] != '\r') return ScanResult::kBareLf;
    if (lf >= 3 && data[lf - 2] == '\n' && data[lf - 3] == '\r') {
      *head_size = lf + 1;
      for (size_t j = 0; j + 2 < lf; ++j) {
        if (data[j] == '\n' && (data[j + 1] == ' ' || data[j + 1] == '\t')) {
          return ScanResult::kObsFold;
        }
      }
      return ScanResult::kComplete;
    }
    i = lf + 1;
  }
  *scanned = size;
  return ScanResult::kNeedMore;
}

void AppendChunk(std::string* out, std::string_view data) {
  char hex[20];
  int n = snprintf(hex, sizeof(hex), "%zx\r\n", data.size());
  out->append(hex, n);
  out->append(data);
  out->append("\r\n", 2);
}

template <bool isRequest>
MessageHead<isRequest>::MessageHead(std::vector<HeadField>* f, size_t max_fields)
    : fields(f), max_fields_(max_fields) {
  fields->clear();
  // Bodies are streamed, never held whole, so their size needs no limit here.
  this->body_limit(boost::none);
}

template <bool isRequest>
HeadError MessageHead<isRequest>::Refusal(const boost::system::error_code& ec) const {
  if (rule_error_ != HeadError::kNone) return rule_error_;
  if (ec == http::error::header_limit) return HeadError::kTooLarge;
  if (ec == http::error::bad_content_length || ec == http::error::multiple_content_length ||
      ec == http::error::bad_transfer_encoding) {
    return HeadError::kAmbiguousLength;
  }
  if (ec == http::error::bad_chunk || ec == http::error::bad_chunk_extension) {
    return HeadError::kBadChunk;
  }
  return HeadError::kMalformed;
}

template <bool isRequest>
void MessageHead<isRequest>::on_request_impl(http::verb m, BeastView method_str, BeastView t, int v,
                                             boost::system::error_code&) {
  method = m;
  method_string = method_str;
  target = t;
  version = v;
}

template <bool isRequest>
void MessageHead<isRequest>::on_response_impl(int code, BeastView r, int v,
                                              boost::system::error_code&) {
  status = code;
  reason = r;
  version = v;
}

template <bool isRequest>
void MessageHead<isRequest>::on_field_impl(http::field name, BeastView name_string, BeastView value,
                                           boost::system::error_code& ec) {
  auto refuse = [&](HeadError e) {
    rule_error_ = e;
    ec = http::error::bad_field;
  };
  if (fields->size() >= max_fields_) return refuse(HeadError::kTooManyFields);
  fields->push_back({name, name_string, value});
  switch (name) {
    case http::field::transfer_encoding:
      if (++te_fields_ > 1) return refuse(HeadError::kAmbiguousLength);
      if (!EqualsIgnoreCase(Trim(value), "chunked")) return refuse(HeadError::kUnknownCoding);
      break;
    case http::field::host:
      ++host_fields_;
      host = value;
      break;
    case http::field::cookie:
      if (cookie.empty()) cookie = value;
      break;
    case http::field::connection:
      ++connection_fields;
      break;
    case http::field::upgrade:
      upgrade_value = value;
      break;
    case http::field::expect:
      expect = value;
      break;
    case http::field::unknown:
      if (isRequest && EqualsIgnoreCase(name_string, "x-lastgood-slot")) slot_header = value;
      break;
    default:
      break;
  }
}

template <bool isRequest>
void MessageHead<isRequest>::on_header_impl(boost::system::error_code& ec) {
  if (isRequest && (host_fields_ > 1 || (version >= 11 && host_fields_ == 0))) {
    rule_error_ = HeadError::kBadHost;
    ec = http::error::bad_field;
  }
}

template <bool isRequest>
size_t MessageHead<isRequest>::on_body_impl(BeastView body, boost::system::error_code&) {
  if (out_framing_ == BodyFraming::kChunked) {
    if (!body.empty()) AppendChunk(body_out_, body);
  } else {
    body_out_->append(body);
  }
  return body.size();
}

template <bool isRequest>
size_t MessageHead<isRequest>::on_chunk_body_impl(std::uint64_t, BeastView body,
                                                  boost::system::error_code&) {
  if (body.empty()) return 0;
  if (out_framing_ == BodyFraming::kChunked) {
    AppendChunk(body_out_, body);
  } else {
    body_out_->append(body);
  }
  return body.size();
}

template <bool isRequest>
bool MessageHead<isRequest>::IsHopByHop(const HeadField& f) const {
  switch (f.name) {
    case http::field::connection:
    case http::field::keep_alive:
    case http::field::te:
    case http::field::trailer:
    case http::field::transfer_encoding:
    case http::field::upgrade:
    case http::field::proxy_connection:
    case http::field::proxy_authenticate:
    case http::field::proxy_authorization:
      return true;
    default:
      break;
  }
  if (f.name_string.size() > 6 && EqualsIgnoreCase(f.name_string.substr(0, 6), "proxy-")) {
    return true;
  }
  if (connection_fields == 0) return false;
  for (const HeadField& c : *fields) {
    if (c.name == http::field::connection && ListHasToken(c.value, f.name_string)) return true;
  }
  return false;
}

template class MessageHead<true>;
template class MessageHead<false>;

}  // namespace lastgood
