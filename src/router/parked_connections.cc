#include "router/parked_connections.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <cerrno>

#include "router/proxy_session.h"
#include "router/worker.h"

namespace lastgood {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {
constexpr int kWakeBatch = 64;  // readiness events taken per epoll_wait
}  // namespace

ParkedConnections::ParkedConnections(Worker& worker) : worker_(worker), epoll_(worker.io()) {
  // Without an epoll set (out of descriptors) connections are closed instead of parked.
  int fd = ::epoll_create1(EPOLL_CLOEXEC);
  error_code ec;
  if (fd >= 0) epoll_.assign(fd, ec);
  if (fd >= 0 && ec) ::close(fd);
}

ParkedConnections::~ParkedConnections() { Close(); }

void ParkedConnections::Start() {
  if (epoll_.is_open()) Arm();
}

void ParkedConnections::Arm() {
  // The epoll set is level-triggered; Asio watches it edge-triggered, so each wake-up
  // drains it (Wake) before waiting again.
  epoll_.async_wait(asio::posix::descriptor_base::wait_read, [this](error_code ec) {
    if (ec) return;  // closed
    Wake();
    Arm();
  });
}

void ParkedConnections::Wake() {
  epoll_event events[kWakeBatch];
  for (;;) {
    int n = ::epoll_wait(epoll_.native_handle(), events, kWakeBatch, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    for (int i = 0; i < n; ++i) Unpark(events[i].data.fd);
    if (n < kWakeBatch) return;
  }
}

void ParkedConnections::Park(tcp::socket socket, uint32_t listener, int64_t deadline_ms,
                             const std::optional<asio::ip::address>& counted_client) {
  error_code ec;
  auto local = socket.local_endpoint(ec);
  int fd = ec ? -1 : socket.release(ec);
  if (fd < 0 || ec || !epoll_.is_open()) {
    if (fd >= 0) ::close(fd);
    socket.close(ec);
    worker_.shared().connections.fetch_sub(1, std::memory_order_relaxed);
    if (counted_client) worker_.shared().clients.Remove(listener, *counted_client);
    return;
  }
  if (counted_client) counted_[fd] = *counted_client;
  epoll_event event{};
  event.events = EPOLLIN | EPOLLRDHUP;
  event.data.fd = fd;
  if (::epoll_ctl(epoll_.native_handle(), EPOLL_CTL_ADD, fd, &event) != 0) {
    Uncount(fd, listener);
    ::close(fd);
    worker_.shared().connections.fetch_sub(1, std::memory_order_relaxed);
    return;
  }
  if (slots_.size() <= static_cast<size_t>(fd)) slots_.resize(fd + 1);
  slots_[fd] = {deadline_ms, listener, local.address().is_v6() ? kV6 : kV4};
  ++count_;
}

void ParkedConnections::Unpark(int fd) {
  if (fd < 0 || static_cast<size_t>(fd) >= slots_.size() || slots_[fd].state == kFree) return;
  Slot slot = slots_[fd];
  // Draining too: its request is answered, with Connection: close.
  ::epoll_ctl(epoll_.native_handle(), EPOLL_CTL_DEL, fd, nullptr);
  slots_[fd] = {};
  --count_;
  std::optional<asio::ip::address> counted_client;
  if (auto it = counted_.find(fd); it != counted_.end()) {
    counted_client = it->second;
    counted_.erase(it);
  }
  tcp::socket socket(worker_.io());
  error_code ec;
  socket.assign(slot.state == kV6 ? tcp::v6() : tcp::v4(), fd, ec);
  if (ec) {
    ::close(fd);
    worker_.shared().connections.fetch_sub(1, std::memory_order_relaxed);
    if (counted_client) worker_.shared().clients.Remove(slot.listener, *counted_client);
    return;
  }
  asio::co_spawn(worker_.io(),
                 RunSession(worker_, std::move(socket), slot.listener, std::move(counted_client)),
                 asio::detached);
}

void ParkedConnections::Uncount(int fd, uint32_t listener) {
  if (counted_.empty()) return;
  auto it = counted_.find(fd);
  if (it == counted_.end()) return;
  worker_.shared().clients.Remove(listener, it->second);
  counted_.erase(it);
}

void ParkedConnections::Drop(int fd) {
  ::epoll_ctl(epoll_.native_handle(), EPOLL_CTL_DEL, fd, nullptr);
  Uncount(fd, slots_[fd].listener);
  ::close(fd);
  slots_[fd] = {};
  --count_;
  worker_.shared().connections.fetch_sub(1, std::memory_order_relaxed);
}

void ParkedConnections::Expire(int64_t now_ms, bool draining) {
  if (count_ == 0) return;
  for (size_t fd = 0; fd < slots_.size(); ++fd) {
    const Slot& s = slots_[fd];
    if (s.state == kFree) continue;
    if (draining || (s.deadline_ms != 0 && now_ms >= s.deadline_ms)) Drop(static_cast<int>(fd));
  }
}

void ParkedConnections::Close() {
  if (!epoll_.is_open()) return;
  for (size_t fd = 0; fd < slots_.size() && count_ > 0; ++fd) {
    if (slots_[fd].state != kFree) Drop(static_cast<int>(fd));
  }
  slots_.clear();
  slots_.shrink_to_fit();
  error_code ignored;
  epoll_.close(ignored);
}

}  // namespace lastgood
