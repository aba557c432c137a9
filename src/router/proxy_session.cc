#include "router/proxy_session.h"

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/status.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "router/choose_backend.h"
#include "router/forwarding.h"
#include "router/http_head.h"
#include "router/worker.h"

namespace lastgood {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using boost::system::error_code;
using std::chrono::steady_clock;

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr size_t kHeadReadBytes = 4096;
constexpr size_t kBodyReadBytes = 16 * 1024;
constexpr size_t kMaxResponseHeadBytes = 64 * 1024;
constexpr size_t kMaxResponseFields = 1000;
constexpr size_t kCoalesceBytes = 8 * 1024;  // a body this small is copied after its head
constexpr size_t kTunnelBufferBytes = 16 * 1024;
constexpr size_t kLingerDiscardBytes = 64 * 1024;
constexpr std::chrono::milliseconds kLingerTime{500};

enum class RelayEnd { kDone, kReadFailed, kWriteFailed, kBadBody, kTimeout };

// Counts one request as in flight at the backend it tracks, until it tracks another (a
// retry), none, or the request's scope ends, by whichever co_return.
class InFlight {
 public:
  InFlight() = default;
  ~InFlight() { Track(nullptr); }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;
  void Track(SeriesCell* cell) {
    if (cell_) cell_->EndRequest();
    cell_ = cell;
    if (cell_) cell_->BeginRequest();
  }

 private:
  SeriesCell* cell_ = nullptr;
};

void Append(std::string& out, std::string_view a) { out.append(a.data(), a.size()); }

void AppendField(std::string& out, std::string_view name, std::string_view value) {
  Append(out, name);
  out.append(": ", 2);
  Append(out, value);
  out.append("\r\n", 2);
}

class Session {
 public:
  Session(Worker& worker, tcp::socket client, uint32_t listener,
          std::optional<asio::ip::address> counted_client)
      : worker_(worker),
        options_(worker.shared().options),
        client_(std::move(client)),
        listener_(listener),
        counted_client_(std::move(counted_client)) {
    error_code ec;
    auto peer = client_.remote_endpoint(ec);
    if (!ec) {
      peer_ = peer.address();
      peer_ip_ = peer_->to_string();
    }
    watch_.client = &client_;
    worker_.AddWatch(&watch_);
  }
  ~Session() {
    worker_.RemoveWatch(&watch_);
    if (handed_off_) return;
    worker_.shared().connections.fetch_sub(1, std::memory_order_relaxed);
    if (counted_client_) worker_.shared().clients.Remove(listener_, *counted_client_);
  }

  asio::awaitable<void> Run() {
    auto wait = options_.header_timeout;  // a new connection must send its first head in time
    for (;;) {
      if (in_.size() == 0) {
        Idle idle = co_await WaitForRequest(wait);
        if (idle == Idle::kClose) break;
        if (idle == Idle::kPark) {
          // The session ends here; a small parked connection waits for the next request.
          handed_off_ = true;
          worker_.parked().Park(std::move(client_), listener_, watch_.deadline_ms, counted_client_);
          co_return;
        }
      }
      if (!co_await ServeOne()) break;
      wait = options_.idle_timeout;
      if (in_.size() == 0 && in_.capacity() > 4 * kBodyReadBytes) in_.shrink_to_fit();
    }
    error_code ignored;
    if (upstream_) upstream_->close(ignored);
    client_.close(ignored);
  }

 private:
  enum class Idle { kRequest, kClose, kPark };

  void SetDeadline(std::chrono::milliseconds d) {
    watch_.deadline_ms = NowMillis() + d.count();
    watch_.expired = false;
  }

  // Waits for the first bytes of the next request. A connection idle for a while is told
  // by the worker's ticker to park: the session then ends and only the descriptor waits
  // (ParkedConnections), so that many idle keep-alive connections cost little memory. Busy
  // connections never park and keep their buffers.
  asio::awaitable<Idle> WaitForRequest(std::chrono::milliseconds timeout) {
    watch_.idle = true;
    watch_.park = false;
    watch_.idle_since_ms = NowMillis();
    SetDeadline(timeout);
    // Draining, the connection still waits for its next request (answered with
    // Connection: close); the ticker closes it after kDrainIdleCloseMillis idle.
    auto [ec, n] = co_await client_.async_read_some(in_.prepare(kHeadReadBytes), kTuple);
    if (!ec && !watch_.expired) {
      in_.commit(n);
      co_return Idle::kRequest;
    }
    bool park = watch_.park && !watch_.expired && ec == asio::error::operation_aborted &&
                !worker_.shared().draining.load(std::memory_order_relaxed);
    co_return park ? Idle::kPark : Idle::kClose;
  }

  // Reads until `in` holds a complete head; returns its size, or 0 when the peer closed,
  // the deadline passed, or the head was refused (then *refusal says why).
  asio::awaitable<size_t> ReadHead(tcp::socket& from, beast::flat_buffer& in, size_t limit,
                                   HeadError* refusal) {
    size_t scanned = 0, head_size = 0;
    for (;;) {
      if (in.size() > 0) {
        if (watch_.idle) {
          // The header timeout covers the whole head from its first byte, not each read.
          watch_.idle = false;
          SetDeadline(options_.header_timeout);
        }
        auto data = static_cast<const char*>(in.data().data());
        switch (ScanHead(data, in.size(), &scanned, &head_size)) {
          case ScanResult::kComplete:
            if (head_size > limit) *refusal = HeadError::kTooLarge;
            co_return head_size > limit ? 0 : head_size;
          case ScanResult::kBareLf:
            *refusal = HeadError::kBareLf;
            co_return 0;
          case ScanResult::kObsFold:
            *refusal = HeadError::kObsFold;
            co_return 0;
          case ScanResult::kNeedMore:
            if (in.size() >= limit) {
              *refusal = HeadError::kTooLarge;
              co_return 0;
            }
            break;
        }
      }
      auto [ec, n] = co_await from.async_read_some(in.prepare(kHeadReadBytes), kTuple);
      if (ec || watch_.expired) co_return 0;
      in.commit(n);
    }
  }

  asio::awaitable<bool> Write(tcp::socket& to, std::string_view a, std::string_view b = {}) {
    SetDeadline(options_.idle_timeout);
    if (b.empty()) {
      // One buffer: send(2) rather than sendmsg(2).
      auto [ec, n] = co_await asio::async_write(to, asio::buffer(a), kTuple);
      co_return !ec && !watch_.expired;
    }
    std::array<asio::const_buffer, 2> buffers{asio::buffer(a), asio::buffer(b)};
    auto [ec, n] = co_await asio::async_write(to, buffers, kTuple);
    co_return !ec && !watch_.expired;
  }

  // Writes `head` (if any) and the body bytes gathered so far, as one buffer when small.
  asio::awaitable<bool> Flush(tcp::socket& to, std::string& head) {
    if (!head.empty() && body_out_.size() <= kCoalesceBytes) {
      head.append(body_out_);
      body_out_.clear();
    }
    bool ok = co_await Write(to, head.empty() ? std::string_view(body_out_) : head,
                             head.empty() ? std::string_view() : body_out_);
    head.clear();
    body_out_.clear();
    co_return ok;
  }

  // Relays the body of `msg` (head parsed, head bytes consumed from `in`) from `from` to `to`
  // in `framing`, after `head` (sent with the first piece; cleared).
  template <bool isRequest>
  asio::awaitable<RelayEnd> Relay(MessageHead<isRequest>& msg, tcp::socket& from,
                                  beast::flat_buffer& in, tcp::socket& to, std::string& head,
                                  BodyFraming framing) {
    body_out_.clear();
    msg.SetBodyOutput(&body_out_, framing);
    msg.eager(true);
    for (;;) {
      while (!msg.is_done() && in.size() > 0) {
        error_code ec;
        size_t n = msg.put(in.data(), ec);
        in.consume(n);
        if (ec == http::error::need_more) break;
        if (ec) co_return RelayEnd::kBadBody;
        if (n == 0) break;
      }
      if (msg.is_done()) break;
      if (!head.empty() || !body_out_.empty()) {
        // Flush before waiting for more, so that streams flow and nothing is held whole.
        if (!co_await Flush(to, head)) co_return RelayEnd::kWriteFailed;
      }
      SetDeadline(options_.idle_timeout);
      auto [ec, n] = co_await from.async_read_some(in.prepare(kBodyReadBytes), kTuple);
      if (watch_.expired) co_return RelayEnd::kTimeout;
      if (ec == asio::error::eof && msg.need_eof()) {
        error_code eof_ec;
        msg.put_eof(eof_ec);
        break;
      }
      if (ec) co_return RelayEnd::kReadFailed;
      in.commit(n);
    }
    if (framing == BodyFraming::kChunked) Append(body_out_, kLastChunk);
    co_return co_await Flush(to, head) ? RelayEnd::kDone : RelayEnd::kWriteFailed;
  }

  // A short text response generated by the router.
  asio::awaitable<bool> Reply(int status, std::string_view text, bool close) {
    head_out_.clear();
    Append(head_out_, "HTTP/1.1 ");
    Append(head_out_, std::to_string(status));
    head_out_ += ' ';
    Append(head_out_, http::obsolete_reason(static_cast<http::status>(status)));
    Append(head_out_, "\r\nContent-Type: text/plain\r\nContent-Length: ");
    Append(head_out_, std::to_string(text.size()));
    Append(head_out_, close ? "\r\nConnection: close\r\n\r\n" : "\r\n\r\n");
    bool ok = co_await Write(client_, head_out_, text);
    if (close) co_await LingerClose();
    co_return ok && !close;
  }

  asio::awaitable<bool> Refuse(HeadError why) {
    co_return co_await Reply(HeadErrorStatus(why), HeadErrorText(why), true);
  }

  // Closing with unread input would send a reset that can destroy the response in flight:
  // stop sending, discard what the client still sends for a moment, then close.
  asio::awaitable<void> LingerClose() {
    error_code ec;
    client_.shutdown(tcp::socket::shutdown_send, ec);
    SetDeadline(kLingerTime);
    size_t discarded = 0;
    while (discarded < kLingerDiscardBytes) {
      in_.clear();
      auto [read_ec, n] = co_await client_.async_read_some(in_.prepare(kHeadReadBytes), kTuple);
      if (read_ec || watch_.expired) break;
      discarded += n;
    }
    in_.clear();
    client_.close(ec);
  }

  void CloseUpstream() {
    if (!upstream_) return;
    error_code ignored;
    upstream_->close(ignored);
    upstream_.reset();
    watch_.upstream = nullptr;
  }

  // The series a request to `backend` counts in: apart when the client pinned the slot.
  SeriesCell* Cell(const CompiledBackend& backend, bool pinned) const {
    const auto& series = pinned && backend.pinned_stats ? backend.pinned_stats : backend.stats;
    return series->cells[worker_.index()].get();
  }

  static void Record(SeriesCell* cell, const RequestSample& sample) {
    cell->Record(StatsSecond(), sample);
  }

  asio::awaitable<bool> Connect(const CompiledBackend& backend, bool allow_pooled) {
    CloseUpstream();
    up_in_.clear();
    if (allow_pooled) {
      if (auto pooled = worker_.TakeUpstream(backend.pool, NowMillis())) {
        upstream_.emplace(std::move(*pooled));
        watch_.upstream = &*upstream_;
        reused_ = true;
        co_return true;
      }
    }
    reused_ = false;
    upstream_.emplace(worker_.io());
    watch_.upstream = &*upstream_;
    SetDeadline(options_.connect_timeout);
    auto [ec] = co_await upstream_->async_connect(backend.endpoint, kTuple);
    if (ec || watch_.expired) {
      CloseUpstream();
      co_return false;
    }
    upstream_->set_option(tcp::no_delay(true), ec);
    co_return true;
  }

  // Whether the route trusts the peer's X-Forwarded-* fields (route.trustedProxies).
  bool PeerTrusted(const CompiledApp& app) const {
    if (app.trusted.empty() || !peer_) return false;
    const bool v6 = peer_->is_v6();
    const auto bytes4 = v6 ? asio::ip::address_v4::bytes_type{} : peer_->to_v4().to_bytes();
    const auto bytes6 = v6 ? peer_->to_v6().to_bytes() : asio::ip::address_v6::bytes_type{};
    for (const Cidr& cidr : app.trusted) {
      if (cidr.Contains(v6, v6 ? bytes6.data() : bytes4.data())) return true;
    }
    return false;
  }

  void BuildRequestHead(const RequestHead& req, const CompiledApp& app, std::string_view host,
                        std::string_view target, bool expect_continue) {
    const bool trusted = PeerTrusted(app);
    head_out_.clear();
    Append(head_out_, req.method_string);
    head_out_ += ' ';
    Append(head_out_, target);
    Append(head_out_, " HTTP/1.1\r\n");
    forwarded_for_.clear();
    bool client_proto = false, client_host = false;
    for (const HeadField& f : *req.fields) {
      if (req.IsHopByHop(f)) continue;
      switch (f.name) {
        case http::field::content_length:  // one normalised field below ("5, 5" → 5)
          continue;
        case http::field::host:
          if (host.data() != req.host.data()) continue;  // absolute-form: its authority
          break;
        case http::field::cookie:
          if (StripSessionCookies(f.value, &cookie_out_)) {
            if (!cookie_out_.empty()) AppendField(head_out_, f.name_string, cookie_out_);
            continue;
          }
          break;
        case http::field::expect:
          if (expect_continue) continue;
          break;
        case http::field::forwarded:
          if (!trusted) continue;
          break;
        case http::field::unknown:
          switch (ClassifyForwardingField(f.name_string)) {
            case ForwardingField::kNone:
              break;
            case ForwardingField::kFor:
              if (trusted) {
                Append(forwarded_for_, f.value);
                forwarded_for_.append(", ", 2);
              }
              continue;
            case ForwardingField::kProto:
              if (!trusted) continue;
              client_proto = true;
              break;
            case ForwardingField::kHost:
              if (!trusted) continue;
              client_host = true;
              break;
            case ForwardingField::kOther:
              if (!trusted) continue;
              break;
          }
          break;
        default:
          break;
      }
      AppendField(head_out_, f.name_string, f.value);
    }
    if (host.data() != req.host.data()) AppendField(head_out_, "Host", host);
    forwarded_for_ += peer_ip_;
    AppendField(head_out_, "X-Forwarded-For", forwarded_for_);
    if (!client_proto) Append(head_out_, "X-Forwarded-Proto: http\r\n");
    if (!client_host && !host.empty()) AppendField(head_out_, "X-Forwarded-Host", host);
    if (req.upgrade()) {
      Append(head_out_, "Connection: Upgrade\r\n");
      AppendField(head_out_, "Upgrade", req.upgrade_value);
    }
    if (req.chunked()) {
      Append(head_out_, "Transfer-Encoding: chunked\r\n");
    } else if (auto length = req.content_length()) {
      Append(head_out_, "Content-Length: ");
      Append(head_out_, std::to_string(*length));
      head_out_.append("\r\n", 2);
    }
    head_out_.append("\r\n", 2);
  }

  void BuildResponseHead(const ResponseHead& resp, BodyFraming framing, bool keep_client,
                         bool client_http10, std::string_view set_cookie_slot) {
    head_out_.clear();
    Append(head_out_, "HTTP/1.1 ");
    Append(head_out_, std::to_string(resp.status));
    head_out_ += ' ';
    Append(head_out_, resp.reason);
    head_out_.append("\r\n", 2);
    for (const HeadField& f : *resp.fields) {
      if (resp.IsHopByHop(f) || f.name == http::field::content_length) continue;
      AppendField(head_out_, f.name_string, f.value);
    }
    if (framing == BodyFraming::kChunked) {
      Append(head_out_, "Transfer-Encoding: chunked\r\n");
    } else if (auto length = resp.content_length(); length && framing != BodyFraming::kUntilClose) {
      // One field with the parsed value: a backend's "5, 5" reaches no client as a list.
      Append(head_out_, "Content-Length: ");
      Append(head_out_, std::to_string(*length));
      head_out_.append("\r\n", 2);
    }
    if (!set_cookie_slot.empty()) {
      Append(head_out_, "Set-Cookie: lastgood-slot=");
      Append(head_out_, set_cookie_slot);
      Append(head_out_, "; Path=/; HttpOnly\r\n");
    }
    if (resp.status == 101) {
      Append(head_out_, "Connection: Upgrade\r\n");
      AppendField(head_out_, "Upgrade", resp.upgrade_value);
    } else if (!keep_client) {
      Append(head_out_, "Connection: close\r\n");
    } else if (client_http10) {
      Append(head_out_, "Connection: keep-alive\r\n");
    }
    head_out_.append("\r\n", 2);
  }

  // After a 101: bytes flow both ways until either side closes.
  asio::awaitable<void> Tunnel() {
    using namespace asio::experimental::awaitable_operators;
    watch_.deadline_ms = 0;
    if (in_.size() > 0) {
      auto [ec, n] = co_await asio::async_write(*upstream_, in_.data(), kTuple);
      if (ec) co_return;
      in_.consume(n);
    }
    if (up_in_.size() > 0) {
      auto [ec, n] = co_await asio::async_write(client_, up_in_.data(), kTuple);
      if (ec) co_return;
      up_in_.consume(n);
    }
    watch_.deadline_ms = 0;
    co_await (Pipe(client_, *upstream_) || Pipe(*upstream_, client_));
  }

  static asio::awaitable<void> Pipe(tcp::socket& from, tcp::socket& to) {
    std::vector<char> buffer(kTunnelBufferBytes);
    for (;;) {
      auto [ec, n] = co_await from.async_read_some(asio::buffer(buffer), kTuple);
      if (ec) break;
      auto [write_ec, written] =
          co_await asio::async_write(to, asio::buffer(buffer.data(), n), kTuple);
      if (write_ec) break;
    }
    error_code ignored;
    to.shutdown(tcp::socket::shutdown_send, ignored);
  }

  asio::awaitable<bool> ServeOne();

  Worker& worker_;
  const RouterOptions& options_;
  tcp::socket client_;
  const uint32_t listener_;
  const std::optional<asio::ip::address> counted_client_;
  std::string peer_ip_;
  std::optional<asio::ip::address> peer_;
  Watch watch_;
  beast::flat_buffer in_, up_in_;
  std::string head_out_, body_out_, forwarded_for_, cookie_out_, target_storage_;
  std::vector<HeadField> req_fields_, resp_fields_;
  std::shared_ptr<const CompiledTable> table_;  // keeps the backends of in-flight requests alive
  std::optional<tcp::socket> upstream_;
  bool reused_ = false;
  bool handed_off_ = false;  // the client connection lives on, parked
};

asio::awaitable<bool> Session::ServeOne() {
  HeadError refusal = HeadError::kNone;
  size_t head_size = co_await ReadHead(client_, in_, options_.max_header_bytes, &refusal);
  if (head_size == 0) {
    if (refusal != HeadError::kNone) co_await Refuse(refusal);
    co_return false;
  }
  RequestHead req(&req_fields_, options_.max_header_fields);
  req.header_limit(static_cast<uint32_t>(head_size + 1));
  error_code ec;
  req.put(asio::buffer(in_.data().data(), head_size), ec);
  if (ec || !req.is_header_done()) co_return co_await Refuse(req.Refusal(ec));
  // The head's bytes stay where they are until the next prepare(): the views remain valid.
  in_.consume(head_size);
  const auto started = steady_clock::now();
  const bool bodyless = req.is_done();
  if (req.method == http::verb::connect)
    co_return co_await Reply(405, "CONNECT is not supported\n", true);

  // The form of the target decides where the request goes: an absolute-form target
  // ("http://host/path") names its host, which then wins over Host (RFC 9112 3.2.2); the
  // backend gets origin-form and that host, so the router and the app agree on both.
  std::string_view host = req.host, target = req.target;
  if (!NormaliseTarget(req.method, &host, &target, &target_storage_))
    co_return co_await Refuse(HeadError::kBadTarget);

  if (const auto& current = worker_.Table(); current.get() != table_.get()) table_ = current;
  const ListenerRoute* route = table_ ? table_->Match(listener_, host) : nullptr;
  if (!route) co_return co_await Reply(404, "no app for this host\n", !bodyless);
  const CompiledApp& app = table_->apps[route->app];

  const BackendChoice choice = ChooseBackend(app, *route, {req.slot_header, target, req.cookie},
                                             {worker_.swrr(), worker_.round_robin()});
  if (!choice.version) co_return co_await Reply(503, "no backend for this slot\n", !bodyless);
  const CompiledVersion& version = *choice.version;
  const size_t backends = version.backends.size();
  const size_t first = choice.first_backend;
  std::string_view set_cookie = choice.set_cookie;

  const bool expect_continue =
      !bodyless && req.version >= 11 && EqualsIgnoreCase(req.expect, "100-continue");
  BuildRequestHead(req, app, host, target, expect_continue);

  // A connection that fails before any byte was sent is retried once on another backend.
  RequestSample sample;
  const CompiledBackend* backend = nullptr;
  SeriesCell* cell = nullptr;
  InFlight in_flight;
  bool connected = false;
  for (size_t attempt = 0; attempt < std::min<size_t>(2, backends) && !connected; ++attempt) {
    backend = &version.backends[(first + attempt) % backends];
    cell = Cell(*backend, choice.pinned);
    in_flight.Track(cell);
    connected = co_await Connect(*backend, true);
    if (!connected) Record(cell, {.counts_request = false, .connect_errors = 1});
  }
  auto latency = [&] {
    return static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(steady_clock::now() - started)
            .count());
  };
  if (!connected) {
    Record(cell, {.status = 502, .latency_micros = latency()});
    co_return co_await Reply(502, "backend unreachable\n", !bodyless);
  }

  // Send the request. A reused connection that the backend had closed shows as a failure
  // before any response byte: for a request without body, try once more on a new one.
  bool retried = false;
  size_t response_head = 0;
  for (;;) {
    bool sent;
    if (bodyless) {
      sent = co_await Write(*upstream_, head_out_);
    } else {
      if (expect_continue && !co_await Write(client_, "HTTP/1.1 100 Continue\r\n\r\n"))
        co_return false;
      RelayEnd end = co_await Relay(req, client_, in_, *upstream_, head_out_,
                                    req.chunked() ? BodyFraming::kChunked : BodyFraming::kLength);
      if (end == RelayEnd::kBadBody) {
        CloseUpstream();
        co_return co_await Refuse(HeadError::kBadChunk);
      }
      if (end == RelayEnd::kReadFailed || end == RelayEnd::kTimeout) {
        CloseUpstream();
        co_return false;
      }
      sent = end == RelayEnd::kDone;
    }
    if (sent) {
      watch_.idle = false;
      SetDeadline(options_.response_timeout);
      up_in_.clear();
      refusal = HeadError::kNone;
      response_head = co_await ReadHead(*upstream_, up_in_, kMaxResponseHeadBytes, &refusal);
      if (response_head > 0) break;
      if (watch_.expired) {
        CloseUpstream();
        Record(cell, {.status = 504, .latency_micros = latency(), .timeout = true});
        co_return co_await Reply(504, "backend timed out\n", true);
      }
    }
    bool stale = reused_ && bodyless && !retried && up_in_.size() == 0;
    CloseUpstream();
    if (stale && co_await Connect(*backend, false)) {
      retried = true;
      continue;
    }
    Record(cell, {.status = 502, .latency_micros = latency()});
    co_return co_await Reply(502, "backend failed\n", true);
  }

  // The response; informational ones (100, 103) are passed on and the real one follows.
  std::optional<ResponseHead> resp;
  for (;;) {
    resp.emplace(&resp_fields_, kMaxResponseFields);
    resp->header_limit(static_cast<uint32_t>(response_head + 1));
    if (req.method == http::verb::head) resp->skip(true);
    resp->put(asio::buffer(up_in_.data().data(), response_head), ec);
    if (ec || !resp->is_header_done() || (resp->status == 101 && !req.upgrade())) {
      CloseUpstream();
      Record(cell, {.status = 502, .latency_micros = latency()});
      co_return co_await Reply(502, "bad response from backend\n", true);
    }
    up_in_.consume(response_head);
    if (resp->status < 100 || resp->status >= 200 || resp->status == 101) break;
    if (req.version >= 11) {
      BuildResponseHead(*resp, BodyFraming::kNone, true, false, {});
      if (!co_await Write(client_, head_out_)) co_return false;
    }
    SetDeadline(options_.response_timeout);
    response_head = co_await ReadHead(*upstream_, up_in_, kMaxResponseHeadBytes, &refusal);
    if (response_head == 0) {
      CloseUpstream();
      co_return false;
    }
  }
  Record(cell, {.status = resp->status, .latency_micros = latency()});

  bool keep_client = req.keep_alive() && !worker_.shared().draining.load(std::memory_order_relaxed);
  BodyFraming framing = BodyFraming::kLength;
  if (resp->is_done()) {
    framing = BodyFraming::kNone;
  } else if (resp->chunked() || resp->need_eof()) {
    framing = req.version >= 11 ? BodyFraming::kChunked : BodyFraming::kUntilClose;
    if (framing == BodyFraming::kUntilClose) keep_client = false;
  }
  BuildResponseHead(*resp, framing, keep_client, req.version < 11, set_cookie);
  if (resp->status == 101) {
    in_flight.Track(nullptr);  // a tunnel may last for hours: a drain does not wait for it
    if (co_await Write(client_, head_out_)) co_await Tunnel();
    CloseUpstream();
    co_return false;
  }
  RelayEnd end = co_await Relay(*resp, *upstream_, up_in_, client_, head_out_, framing);
  if (end != RelayEnd::kDone) {
    CloseUpstream();
    co_return false;
  }
  if (resp->keep_alive() && !resp->need_eof() && up_in_.size() == 0) {
    watch_.upstream = nullptr;
    worker_.ReturnUpstream(backend->pool, std::move(*upstream_), NowMillis());
    upstream_.reset();
  } else {
    CloseUpstream();
  }
  co_return keep_client;
}

}  // namespace

asio::awaitable<void> RunSession(Worker& worker, tcp::socket client, uint32_t listener,
                                 std::optional<asio::ip::address> counted_client) {
  error_code ignored;
  client.set_option(tcp::no_delay(true), ignored);
  auto session =
      std::make_unique<Session>(worker, std::move(client), listener, std::move(counted_client));
  co_await session->Run();
}

}  // namespace lastgood
