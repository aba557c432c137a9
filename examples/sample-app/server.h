// The event loop of lastgood-sample: one thread, one epoll instance, level-triggered,
// non-blocking sockets. Responses are written in request order on each connection (pipelining);
// a response delayed by --latency-ms holds back the requests behind it on its own connection
// only. Because every delay has the same length, the pending delays form a FIFO that is
// already sorted by deadline, so a deque serves as the timer list.
//
// Thread-safety: not thread-safe; Listen and Run are called from one thread.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "flags.h"
#include "request.h"
#include "responder.h"

namespace sample {

class Server {
 public:
  explicit Server(const Options& options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens on options.host:options.port. Returns "" or a one-line error.
  std::string Listen();
  // "127.0.0.1:8080" or "[::1]:8080", with the port actually bound. REQUIRES: Listen succeeded.
  std::string Address() const;
  // Serves until `signal_fd` (a signalfd) becomes readable, then stops accepting, finishes the
  // responses in flight for up to kDrainTimeout and returns 0. Returns 1 on a fatal error.
  int Run(int signal_fd);

 private:
  struct Connection;
  struct Deadline {
    int64_t at_us;
    int fd;
    uint32_t serial;
  };

  void Accept();
  void OnEvent(int fd, uint32_t serial, uint32_t events);
  void OnReadable(Connection& c);
  size_t Consume(Connection& c, std::string_view data);
  void FinishRequest(Connection& c);
  void Settle(Connection& c);
  void UpdateInterest(Connection& c);
  void Close(Connection& c);
  void BeginStop();
  void FireDeadlines();
  int EpollTimeoutMs() const;
  Connection* Find(int fd, uint32_t serial);
  static bool Idle(const Connection& c);

  // Constant after construction.
  const Options options_;

  Responder responder_;
  int epoll_fd_ = -1;
  int listen_fd_ = -1;
  int spare_fd_ = -1;  // given up when out of descriptors, so that accept can shed a client
  int bound_port_ = 0;
  uint32_t next_serial_ = 1;
  std::vector<std::unique_ptr<Connection>> connections_;  // indexed by fd
  size_t live_connections_ = 0;
  std::deque<Deadline> delays_;   // --latency-ms responses, sorted by construction
  std::deque<Deadline> lingers_;  // closing connections draining the client's last bytes
  bool stopping_ = false;
  int64_t stop_deadline_us_ = 0;
  int64_t now_us_ = 0;
  std::unique_ptr<char[]> scratch_;  // one read buffer for all connections
};

}  // namespace sample
