// ParkedConnections: the idle keep-alive client connections of one worker, kept as bare
// descriptors in an epoll set of their own until their next request starts to arrive.
//
// Why not an Asio socket with a pending async_wait: that costs, per connection, Asio's
// reactor state (~170 bytes, allocated when the connection was accepted, between the
// buffers of the sessions being served), the wait operation and the socket object — about
// 700 bytes live plus the heap holes around them, ~1.5 KB of resident memory per idle
// connection (docs/performance.md). Here a parked connection costs one 16-byte slot, and
// the Asio state goes back to Asio's free list for the next session.
//
// The epoll set is itself watched by the worker's io_context; when a parked connection
// becomes readable (a request, or the peer closing), it leaves the set and a new session
// takes it. Not thread-safe: owned by one Worker and used on its thread only (and by
// Worker::Stop once that thread has ended).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

namespace lastgood {

class Worker;

class ParkedConnections {
 public:
  explicit ParkedConnections(Worker& worker);
  ~ParkedConnections();
  ParkedConnections(const ParkedConnections&) = delete;
  ParkedConnections& operator=(const ParkedConnections&) = delete;

  // Starts watching for parked connections that become readable.
  void Start();
  // Takes `socket` (an open client connection with no pending operation and no unread
  // input buffered by the router) until it becomes readable or `deadline_ms` (0: none)
  // passes. On failure the connection is closed and uncounted. `counted_client`: the
  // client address the connection counts for in RouterShared::clients, if any.
  void Park(boost::asio::ip::tcp::socket socket, uint32_t listener, int64_t deadline_ms,
            const std::optional<boost::asio::ip::address>& counted_client);
  // Closes the connections whose deadline has passed, or all of them when `draining`.
  void Expire(int64_t now_ms, bool draining);
  // Closes every parked connection and stops watching. Idempotent.
  void Close();
  size_t size() const { return count_; }

 private:
  struct Slot {
    int64_t deadline_ms = 0;
    uint32_t listener = 0;
    uint8_t state = kFree;
  };
  static constexpr uint8_t kFree = 0, kV4 = 1, kV6 = 2;

  void Arm();
  void Wake();
  void Unpark(int fd);
  void Drop(int fd);  // closes a parked connection and uncounts it
  void Uncount(int fd, uint32_t listener);

  Worker& worker_;
  boost::asio::posix::stream_descriptor epoll_;
  std::vector<Slot> slots_;  // by descriptor number, so that a slot needs no key
  // The client address of each parked connection on a listener that limits its clients
  // (rare: the limit is off by default), to uncount it when it closes.
  std::unordered_map<int, boost::asio::ip::address> counted_;
  size_t count_ = 0;
};

}  // namespace lastgood
