// One connection of http::Server, served by a coroutine on the connection's own io_context
// (one thread each): read a request within its deadlines, call the listener's handler, write
// the answer, and again while the peer keeps the connection alive.
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <vector>

#include "http/server_impl.h"

namespace lastgood::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using local = asio::local::stream_protocol;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kTlsShutdownWait = std::chrono::seconds(2);
// A taken body is read in pieces of this size: what one upload holds in memory.
constexpr size_t kBodyPieceBytes = 256 << 10;

// Writes a stream's head, then what its `next` gives once a tick, until it ends.
template <typename Stream>
asio::awaitable<void> RunStream(Server::Impl* impl, const Listener& l, Stream& stream,
                                const http::Stream& s) {
  auto& lowest = beast::get_lowest_layer(stream);
  beast::error_code ec;
  lowest.expires_after(l.limits.write);
  co_await asio::async_write(stream, asio::buffer(s.head),
                             asio::redirect_error(asio::use_awaitable, ec));
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (!ec && !impl->stopping) {
    std::optional<std::string> text;
    try {
      text = s.next();
    } catch (const std::exception& e) {
      Log(l.limits.name + ": a stream ended by an exception (" + e.what() + ")");
    }
    if (!text) break;
    if (!text->empty()) {
      lowest.expires_after(l.limits.write);
      co_await asio::async_write(stream, asio::buffer(*text),
                                 asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
    }
    lowest.expires_never();
    timer.expires_after(s.tick);
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

// Reads the body of `head` into `sink` piece by piece, each piece within limits.idle, at
// most sink.limit() bytes (a larger Content-Length is refused before a byte is read). The
// sink's answer; nullopt when the peer left. `*whole` says whether the body was read through.
template <typename Stream>
asio::awaitable<std::optional<Answer>> TakeBody(const Listener& l, Stream& stream,
                                                beast::flat_buffer& buffer,
                                                bhttp::request_parser<bhttp::empty_body>& head,
                                                BodySink& sink, bool* whole) {
  auto& lowest = beast::get_lowest_layer(stream);
  if (auto length = head.content_length(); length && *length > sink.limit())
    co_return sink.Finish(BodySink::End::kTooLarge);
  bhttp::request_parser<bhttp::buffer_body> parser(std::move(head));
  parser.body_limit(boost::none);  // counted here, against the sink's limit
  std::vector<char> piece(kBodyPieceBytes);
  uint64_t taken = 0;
  beast::error_code ec;
  while (!parser.is_done()) {
    parser.get().body().data = piece.data();
    parser.get().body().size = piece.size();
    lowest.expires_after(l.limits.idle);
    co_await bhttp::async_read(stream, buffer, parser,
                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) {
      (void)sink.Finish(BodySink::End::kBroken);
      co_return std::nullopt;
    }
    size_t n = piece.size() - parser.get().body().size;
    taken += n;
    if (taken > sink.limit()) co_return sink.Finish(BodySink::End::kTooLarge);
    if (n > 0 && !sink.Write(piece.data(), n)) co_return sink.Finish(BodySink::End::kStopped);
  }
  lowest.expires_never();
  *whole = true;
  co_return sink.Finish(BodySink::End::kComplete);
}

// Serves requests until the peer leaves, misses a deadline, or asks to close. The first
// request's deadline (firstHeader) was set by the caller before any handshake.
template <typename Stream>
asio::awaitable<void> ServeRequests(Server::Impl* impl, const Listener& l, Stream& stream,
                                    const Peer& peer) {
  auto& lowest = beast::get_lowest_layer(stream);
  beast::flat_buffer buffer;
  beast::error_code ec;
  for (bool first = true;; first = false) {
    // The header alone first: the listener's taker may take the body as it arrives.
    bhttp::request_parser<bhttp::empty_body> head;
    head.header_limit(static_cast<std::uint32_t>(l.limits.headerBytes));
    // No body limit on the header's parser: a taken body has the taker's own, and one read
    // whole is checked against bodyBytes below (Beast would refuse a Content-Length over the
    // limit before the taker saw the header).
    head.body_limit(boost::none);
    if (!first) lowest.expires_after(l.limits.idle);
    co_await bhttp::async_read_header(stream, buffer, head,
                                      asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    if (l.taker) {
      Request header;
      header.base() = head.get().base();
      std::optional<BodyTake> take = l.taker(peer, header);
      if (take) {
        lowest.expires_never();
        std::optional<Answer> answer;
        bool whole = false;
        if (take->sink) {
          answer = co_await TakeBody(l, stream, buffer, head, *take->sink, &whole);
        } else {
          answer = std::move(take->refusal);
        }
        if (!answer) break;  // the peer is gone
        Response& res = answer->response;
        res.version(header.version());
        // The rest of a refused body is never read: the connection cannot serve another.
        res.keep_alive(whole && res.result_int() < 300 && header.keep_alive());
        res.prepare_payload();
        lowest.expires_after(l.limits.write);
        co_await bhttp::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
        if (ec || !res.keep_alive() || impl->stopping) break;
        continue;
      }
    }
    if (auto length = head.content_length(); length && *length > l.limits.bodyBytes) {
      ec = bhttp::error::body_limit;  // answered 413 below
      break;
    }
    bhttp::request_parser<bhttp::string_body> parser(std::move(head));
    parser.body_limit(l.limits.bodyBytes);
    if (!parser.is_done()) {
      lowest.expires_after(l.limits.body);
      co_await bhttp::async_read(stream, buffer, parser,
                                 asio::redirect_error(asio::use_awaitable, ec));
    }
    if (ec) break;
    lowest.expires_never();
    Request& req = parser.get();
    Answer answer = CallHandler(l, peer, req);
    if (answer.stream) {
      co_await RunStream(impl, l, stream, *answer.stream);
      co_return;
    }
    Response& res = answer.response;
    res.version(req.version());
    res.keep_alive(req.keep_alive() && res.keep_alive());
    res.prepare_payload();
    lowest.expires_after(l.limits.write);
    co_await bhttp::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !res.keep_alive() || impl->stopping) break;
  }
  if (ec == bhttp::error::body_limit || ec == bhttp::error::header_limit) {
    Response res{bhttp::status::payload_too_large, 11};
    res.set(bhttp::field::content_type, "application/json");
    res.body() = R"({"error":{"code":"invalid_input","message":"request too large"}})";
    res.keep_alive(false);
    res.prepare_payload();
    lowest.expires_after(l.limits.write);
    co_await bhttp::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
  }
}

template <typename Protocol>
asio::awaitable<void> PlainSession(Server::Impl* impl, const Listener& l,
                                   beast::basic_stream<Protocol> stream, Peer peer) {
  co_await ServeRequests(impl, l, stream, peer);
  beast::error_code ec;
  stream.socket().shutdown(Protocol::socket::shutdown_both, ec);
}

asio::awaitable<void> TlsSession(Server::Impl* impl, const Listener& l,
                                 beast::ssl_stream<beast::tcp_stream> stream, Peer peer) {
  beast::error_code ec;
  co_await stream.async_handshake(asio::ssl::stream_base::server,
                                  asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;
  co_await ServeRequests(impl, l, stream, peer);
  beast::get_lowest_layer(stream).expires_after(kTlsShutdownWait);
  co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
}

// Runs `spawn(session)` on a context of the calling thread's own until it ends or Stop.
template <typename Spawn>
void RunSession(Server::Impl* impl, const Listener& l, int fd, Spawn spawn) {
  asio::io_context session;
  if (!impl->Register(&session)) {
    ::close(fd);
    return;
  }
  try {
    spawn(session);
    session.run();
  } catch (const std::exception& e) {
    // The registration below must be undone even then.
    Log(l.limits.name + ": a connection ended by an exception (" + e.what() + ")");
  }
  impl->Unregister(&session);
}

}  // namespace

void Server::Impl::ServeUnix(Listener& l, int fd, Peer peer) {
  RunSession(this, l, fd, [&](asio::io_context& session) {
    beast::basic_stream<local> stream(session);
    beast::error_code ec;
    stream.socket().assign(local(), fd, ec);
    if (ec) {
      ::close(fd);
      return;
    }
    stream.expires_after(l.limits.firstHeader);
    asio::co_spawn(session, PlainSession<local>(this, l, std::move(stream), std::move(peer)),
                   asio::detached);
  });
}

void Server::Impl::ServeTcp(Listener& l, int fd, const tcp::endpoint& local_end, Peer peer) {
  RunSession(this, l, fd, [&](asio::io_context& session) {
    beast::tcp_stream stream(session);
    beast::error_code ec;
    stream.socket().assign(local_end.protocol(), fd, ec);
    if (ec) {
      ::close(fd);
      return;
    }
    // The handshake and the first request's header share this deadline (slowloris).
    stream.expires_after(l.limits.firstHeader);
    if (l.tls) {
      asio::co_spawn(
          session,
          TlsSession(this, l, beast::ssl_stream<beast::tcp_stream>(std::move(stream), *l.tls),
                     std::move(peer)),
          asio::detached);
    } else {
      asio::co_spawn(session, PlainSession<tcp>(this, l, std::move(stream), std::move(peer)),
                     asio::detached);
    }
  });
}

}  // namespace lastgood::http
