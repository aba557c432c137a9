#include "router/worker.h"

#include <malloc.h>
#include <sys/socket.h>
#include <time.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <chrono>

#include "router/proxy_session.h"

namespace lastgood {

namespace asio = boost::asio;

namespace {
// Sessions that ended by parking free their buffers between longer-lived objects; once
// this many did, the heap is trimmed (at most once a second) so that the pages they leave
// whole go back to the system instead of staying resident.
constexpr int kTrimAfterParked = 64;
constexpr int64_t kTrimIntervalMillis = 1000;
}  // namespace

void RouterShared::Publish(std::shared_ptr<const CompiledTable> next) {
  std::shared_ptr<const CompiledTable> old;
  {
    std::lock_guard<std::mutex> lock(table_mu);
    old = std::move(table);
    table = std::move(next);
  }
  serial.fetch_add(1, std::memory_order_release);
}

int64_t NowMillis() {
  // Deadlines need milliseconds, not nanoseconds: the coarse clock is several times cheaper.
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1'000'000;
}

Worker::Worker(int index, RouterShared& shared) : index_(index), shared_(shared) {
  watches_.prev = watches_.next = &watches_;
}

Worker::~Worker() { Stop(); }

void Worker::Start() {
  asio::co_spawn(io_, Tick(), asio::detached);
  parked_.Start();
  thread_ = std::thread([this] {
    auto guard = asio::make_work_guard(io_);
    io_.run();
  });
}

void Worker::Stop() {
  io_.stop();
  if (thread_.joinable()) thread_.join();
  parked_.Close();
  // Handlers posted but never run (a listener added just before the stop) own listening
  // sockets: run them now, then close every acceptor, so that no socket is left listening
  // — a leaked SO_REUSEPORT socket would take a share of a later router's connections.
  io_.restart();
  io_.poll();
  for (auto& [id, acceptor] : acceptors_) {
    boost::system::error_code ec;
    acceptor->close(ec);
  }
  acceptors_.clear();
}

void Worker::AddListener(uint32_t id, int fd, const tcp::endpoint& endpoint) {
  asio::post(io_, [this, id, fd, protocol = endpoint.protocol()] {
    auto acceptor = std::make_unique<tcp::acceptor>(io_);
    boost::system::error_code ec;
    acceptor->assign(protocol, fd, ec);
    if (ec) {
      ::close(fd);
      return;
    }
    tcp::acceptor& ref = *acceptor;
    acceptors_.emplace(id, std::move(acceptor));
    asio::co_spawn(io_, Accept(ref, id), asio::detached);
  });
}

void Worker::RemoveListener(uint32_t id) {
  asio::post(io_, [this, id] {
    auto [from, to] = acceptors_.equal_range(id);
    for (auto it = from; it != to; ++it) {
      boost::system::error_code ec;
      it->second->close(ec);
      // The accept loop still refers to it until it sees operation_aborted.
      auto doomed = std::shared_ptr<tcp::acceptor>(std::move(it->second));
      asio::post(io_, [doomed] {});
    }
    acceptors_.erase(from, to);
  });
}

void Worker::RemoveAllListeners() {
  asio::post(io_, [this] {
    for (auto& [id, acceptor] : acceptors_) {
      boost::system::error_code ec;
      acceptor->close(ec);
      auto doomed = std::shared_ptr<tcp::acceptor>(std::move(acceptor));
      asio::post(io_, [doomed] {});
    }
    acceptors_.clear();
  });
}

void Worker::Refresh() {
  asio::post(io_, [this] { Table(); });
}

void Worker::Adopt() {
  {
    std::lock_guard<std::mutex> lock(shared_.table_mu);
    seen_serial_ = shared_.serial.load(std::memory_order_acquire);
    table_ = shared_.table;
  }
  if (!table_) return;
  swrr_.assign(table_->swrr_size, 0);
  round_robin_.assign(table_->round_robin_size, 0);
  // A backend that left the table gets no new requests: close its idle connections now.
  for (uint32_t pool = 0; pool < idle_.size(); ++pool) {
    bool live = pool < table_->live_pools.size() && table_->live_pools[pool];
    if (!live) idle_[pool].clear();
  }
}

std::optional<tcp::socket> Worker::TakeUpstream(uint32_t pool, int64_t now_ms) {
  if (pool >= idle_.size()) return std::nullopt;
  auto& idle = idle_[pool];
  while (!idle.empty()) {
    IdleUpstream candidate = std::move(idle.back());
    idle.pop_back();
    if (now_ms - candidate.since_ms > shared_.options.upstream_idle_timeout.count()) continue;
    // An idle connection must have nothing to read: a byte there is not the answer to the
    // request about to be sent (a backend that wrote past its response, or a second
    // response), and reading it as one would hand a client someone else's reply; end of
    // stream means the backend closed it. Either way it is discarded. One recv per reuse.
    char byte;
    ssize_t n = ::recv(candidate.socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return std::move(candidate.socket);
  }
  return std::nullopt;
}

void Worker::ReturnUpstream(uint32_t pool, tcp::socket socket, int64_t now_ms) {
  if (!table_ || pool >= table_->live_pools.size() || !table_->live_pools[pool]) return;
  if (idle_.size() <= pool) idle_.resize(pool + 1);
  auto& idle = idle_[pool];
  if (static_cast<int>(idle.size()) >= shared_.options.max_idle_upstreams_per_backend) return;
  idle.push_back({std::move(socket), now_ms});
}

void Worker::AddWatch(Watch* w) {
  w->next = watches_.next;
  w->prev = &watches_;
  watches_.next->prev = w;
  watches_.next = w;
}

void Worker::RemoveWatch(Watch* w) {
  w->prev->next = w->next;
  w->next->prev = w->prev;
  w->prev = w->next = nullptr;
}

asio::awaitable<void> Worker::Accept(tcp::acceptor& acceptor, uint32_t id) {
  const int limit = shared_.options.max_connections;
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(io_, asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {
      // Out of descriptors or similar: back off briefly instead of spinning.
      asio::steady_timer pause(io_, std::chrono::milliseconds(10));
      co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    // Refused cheaply: reset at once, no TIME_WAIT, no buffers.
    auto refuse = [&socket](std::atomic<uint64_t>* counter) {
      if (counter) counter->fetch_add(1, std::memory_order_relaxed);
      boost::system::error_code ignored;
      socket.set_option(asio::socket_base::linger(true, 0), ignored);
      socket.close(ignored);
    };
    if (shared_.draining.load(std::memory_order_relaxed)) {
      refuse(nullptr);
      continue;
    }
    if (shared_.connections.fetch_add(1, std::memory_order_relaxed) >= limit) {
      shared_.connections.fetch_sub(1, std::memory_order_relaxed);
      refuse(&shared_.refused_over_limit);
      continue;
    }
    std::optional<asio::ip::address> counted;
    const auto& table = Table();
    if (table && id < table->client_limits.size() && table->client_limits[id] > 0) {
      boost::system::error_code peer_ec;
      auto peer = socket.remote_endpoint(peer_ec);
      if (peer_ec || !shared_.clients.TryAdd(id, peer.address(), table->client_limits[id])) {
        shared_.connections.fetch_sub(1, std::memory_order_relaxed);
        refuse(&shared_.refused_per_client);
        continue;
      }
      counted = peer.address();
    }
    asio::co_spawn(io_, RunSession(*this, std::move(socket), id, std::move(counted)),
                   asio::detached);
  }
}

asio::awaitable<void> Worker::Tick() {
  const auto& o = shared_.options;
  auto shortest =
      std::min({o.header_timeout, o.connect_timeout, o.response_timeout, o.idle_timeout});
  auto period =
      std::clamp(shortest / 4, std::chrono::milliseconds(5), std::chrono::milliseconds(100));
  asio::steady_timer timer(io_);
  int64_t last_prune = 0, last_trim = 0;
  int parked_since_trim = 0;
  for (;;) {
    timer.expires_after(period);
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    int64_t now = NowMillis();
    bool draining = shared_.draining.load(std::memory_order_relaxed);
    int64_t drain_started = shared_.drain_started_ms.load(std::memory_order_relaxed);
    int parked = 0;
    for (Watch* w = watches_.next; w != &watches_; w = w->next) {
      bool due = w->deadline_ms != 0 && now >= w->deadline_ms;
      if (!due && w->idle && !w->park && !draining && now - w->idle_since_ms >= kParkAfterMillis) {
        w->park = true;
        ++parked;
        boost::system::error_code ignored;
        w->client->cancel(ignored);
        continue;
      }
      bool drained = draining && w->idle &&
                     now - std::max(w->idle_since_ms, drain_started) >= kDrainIdleCloseMillis;
      if (!due && !drained) continue;
      // The deadline stays set: if the operation completed before this cancel, the session
      // sees `expired` after it and stops (a slow client cannot slip past by trickling).
      w->expired = due;
      boost::system::error_code ignored;
      if (w->client) w->client->cancel(ignored);
      if (w->upstream) w->upstream->cancel(ignored);
    }
    parked_.Expire(now, draining && now - drain_started >= kDrainIdleCloseMillis);
    parked_since_trim += parked;
    if (parked_since_trim >= kTrimAfterParked && now - last_trim >= kTrimIntervalMillis) {
      malloc_trim(0);
      parked_since_trim = 0;
      last_trim = now;
    }
    Table();
    if (now - last_prune >= 1000) {
      last_prune = now;
      for (auto& idle : idle_) {
        std::erase_if(idle, [&](const IdleUpstream& c) {
          return now - c.since_ms > o.upstream_idle_timeout.count();
        });
      }
    }
  }
}

}  // namespace lastgood
