#include "server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace sample {

namespace {

constexpr size_t kReadChunk = 64 * 1024;
// Past these, a connection stops reading until it catches up: a client that pipelines without
// reading its responses must not make the server buffer without bound.
constexpr size_t kMaxBufferedInput = 64 * 1024;
constexpr size_t kMaxPendingOutput = 256 * 1024;
// After a Connection: close response the client's last bytes are read and dropped for this
// long, so that closing with unread data does not reset the connection and lose the response.
constexpr int64_t kLingerTimeoutUs = 1'000'000;
// SIGTERM must end the process within a second; keep a margin for closing.
constexpr int64_t kDrainTimeoutUs = 900'000;
constexpr int kMaxEvents = 256;
constexpr int kMaxAcceptsPerWakeup = 64;
constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";

int64_t MonotonicUs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}

// Listening and signal descriptors carry serial 0; connections never do.
uint64_t Tag(int fd, uint32_t serial) {
  return (static_cast<uint64_t>(serial) << 32) | static_cast<uint32_t>(fd);
}

}  // namespace

struct Server::Connection {
  int fd = -1;
  uint32_t serial = 0;
  std::string in;  // received bytes not yet parsed
  std::string out;
  size_t out_sent = 0;
  std::string held;  // the response to the current request, while its body or delay runs
  bool held_delayed = false;
  bool held_close = false;
  BodyDiscarder body;
  bool reading_body = false;
  bool waiting = false;            // held is due at a deadline in delays_
  bool blocked_on_output = false;  // parsing paused because the client is not reading
  bool close_after_flush = false;
  bool peer_closed = false;
  bool lingering = false;
  uint32_t interest = 0;
};

Server::Server(const Options& options)
    : options_(options), responder_(options), scratch_(new char[kReadChunk]) {}

Server::~Server() {
  for (auto& c : connections_) {
    if (c) close(c->fd);
  }
  for (int fd : {listen_fd_, epoll_fd_, spare_fd_}) {
    if (fd >= 0) close(fd);
  }
}

int Server::Run(int signal_fd) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = Tag(listen_fd_, 0);
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev);
  ev.data.u64 = Tag(signal_fd, 0);
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, signal_fd, &ev) != 0) {
    std::perror("lastgood-sample: epoll_ctl");
    return 1;
  }
  epoll_event events[kMaxEvents];
  while (true) {
    now_us_ = MonotonicUs();
    if (stopping_ && (live_connections_ == 0 || now_us_ >= stop_deadline_us_)) return 0;
    int n = epoll_wait(epoll_fd_, events, kMaxEvents, EpollTimeoutMs());
    if (n < 0) {
      if (errno == EINTR) continue;
      std::perror("lastgood-sample: epoll_wait");
      return 1;
    }
    now_us_ = MonotonicUs();
    for (int i = 0; i < n; ++i) {
      int fd = static_cast<int>(events[i].data.u64 & 0xffffffffu);
      uint32_t serial = static_cast<uint32_t>(events[i].data.u64 >> 32);
      if (serial != 0) {
        OnEvent(fd, serial, events[i].events);
      } else if (fd == signal_fd) {
        signalfd_siginfo info;
        while (read(signal_fd, &info, sizeof info) == sizeof info) {
        }
        if (!stopping_) BeginStop();
      } else if (fd == listen_fd_) {
        Accept();
      }
    }
    FireDeadlines();
  }
}

void Server::Accept() {
  for (int i = 0; i < kMaxAcceptsPerWakeup; ++i) {
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if ((errno == EMFILE || errno == ENFILE) && spare_fd_ >= 0) {
        // Out of descriptors: accept and drop one client rather than spin on the backlog.
        close(spare_fd_);
        int shed = accept(listen_fd_, nullptr, nullptr);
        if (shed >= 0) close(shed);
        spare_fd_ = open("/dev/null", O_RDONLY | O_CLOEXEC);
        continue;
      }
      return;  // EAGAIN, or an error that the next wakeup will see again
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto c = std::make_unique<Connection>();
    c->fd = fd;
    c->serial = next_serial_++;
    if (next_serial_ == 0) next_serial_ = 1;
    c->interest = EPOLLIN;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = Tag(fd, c->serial);
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      close(fd);
      continue;
    }
    if (static_cast<size_t>(fd) >= connections_.size()) connections_.resize(fd + 1);
    connections_[fd] = std::move(c);
    ++live_connections_;
  }
}

Server::Connection* Server::Find(int fd, uint32_t serial) {
  if (fd < 0 || static_cast<size_t>(fd) >= connections_.size()) return nullptr;
  Connection* c = connections_[fd].get();
  return (c != nullptr && c->serial == serial) ? c : nullptr;
}

void Server::OnEvent(int fd, uint32_t serial, uint32_t events) {
  Connection* c = Find(fd, serial);
  if (c == nullptr) return;  // closed earlier in this batch
  if (events & (EPOLLERR | EPOLLHUP)) {
    Close(*c);  // reset, or both directions shut: no response can arrive any more
    return;
  }
  if (events & EPOLLIN) {
    ssize_t n = read(fd, scratch_.get(), kReadChunk);
    if (n < 0) {
      if (errno != EAGAIN && errno != EINTR) {
        Close(*c);
        return;
      }
    } else if (n == 0) {
      if (c->lingering) {
        Close(*c);
        return;
      }
      c->peer_closed = true;
    } else if (!c->lingering) {
      std::string_view data(scratch_.get(), static_cast<size_t>(n));
      if (c->in.empty()) {
        // The common case: whole requests in one read, parsed without copying.
        size_t used = Consume(*c, data);
        if (!c->close_after_flush) c->in.assign(data.substr(used));
      } else {
        c->in.append(data);
        size_t used = Consume(*c, c->in);
        if (c->close_after_flush)
          c->in.clear();
        else
          c->in.erase(0, used);
      }
    }
  }
  Settle(*c);
}

// Parses and answers the requests at the front of `data`; returns the bytes used. Stops at
// an incomplete request, a delayed response, or a response that closes the connection.
size_t Server::Consume(Connection& c, std::string_view data) {
  size_t pos = 0;
  c.blocked_on_output = false;
  while (!c.waiting && !c.close_after_flush) {
    if (c.reading_body) {
      BodyDiscarder::Step step = c.body.Consume(data.substr(pos));
      pos += step.consumed;
      if (step.error) {
        c.held.clear();
        c.reading_body = false;
        responder_.RenderError(400, c.out);
        c.close_after_flush = true;
        break;
      }
      if (!step.done) break;
      c.reading_body = false;
      FinishRequest(c);
      continue;
    }
    if (pos == data.size()) break;
    if (c.out.size() - c.out_sent >= kMaxPendingOutput) {
      c.blocked_on_output = true;
      break;
    }
    HeadParse p = ParseHead(data.substr(pos));
    if (p.status == ParseStatus::kIncomplete) break;
    if (p.status == ParseStatus::kError) {
      responder_.RenderError(p.error_status, c.out);
      c.close_after_flush = true;
      break;
    }
    pos += p.consumed;
    bool keep_alive = p.head.keep_alive && !stopping_;
    bool has_body = p.head.chunked || p.head.content_length > 0;
    if (!has_body && options_.latency_ms == 0) {
      responder_.Render(p.head, keep_alive, c.out);
      if (!keep_alive) c.close_after_flush = true;
      continue;
    }
    c.held.clear();
    c.held_delayed = responder_.Render(p.head, keep_alive, c.held).delayed;
    c.held_close = !keep_alive;
    if (!has_body) {
      FinishRequest(c);
      continue;
    }
    if (p.head.expect_continue && p.head.http11) c.out += kContinue;
    if (p.head.chunked) {
      c.body.StartChunked();
    } else {
      c.body.StartLength(p.head.content_length);
    }
    c.reading_body = true;
  }
  return pos;
}

// The current request has been read in full: send its response now or at its deadline.
void Server::FinishRequest(Connection& c) {
  if (c.held_delayed) {
    c.waiting = true;
    delays_.push_back({now_us_ + options_.latency_ms * 1000, c.fd, c.serial});
    return;
  }
  c.out += c.held;
  c.held.clear();
  if (c.held_close) c.close_after_flush = true;
}

bool Server::Idle(const Connection& c) {
  return c.in.empty() && c.out.empty() && !c.waiting && !c.reading_body;
}

// Writes what can be written, resumes parsing paused by a slow reader, closes the connection
// when it is done, and otherwise brings its epoll interest up to date. May destroy `c`.
void Server::Settle(Connection& c) {
  if (!c.lingering) {
    while (true) {
      while (c.out_sent < c.out.size()) {
        ssize_t n = send(c.fd, c.out.data() + c.out_sent, c.out.size() - c.out_sent, MSG_NOSIGNAL);
        if (n > 0) {
          c.out_sent += static_cast<size_t>(n);
        } else if (n < 0 && errno == EINTR) {
          continue;
        } else if (n < 0 && errno == EAGAIN) {
          break;
        } else {
          Close(c);
          return;
        }
      }
      if (c.out_sent < c.out.size()) break;
      c.out.clear();
      c.out_sent = 0;
      if (!c.blocked_on_output) break;
      size_t used = Consume(c, c.in);
      c.in.erase(0, used);
    }
    if (c.out.empty()) {
      bool stop_idle = stopping_ && Idle(c);
      if (c.close_after_flush || stop_idle || (c.peer_closed && !c.waiting)) {
        if (stopping_ || c.peer_closed) {
          Close(c);
          return;
        }
        shutdown(c.fd, SHUT_WR);
        c.lingering = true;
        c.in.clear();
        lingers_.push_back({now_us_ + kLingerTimeoutUs, c.fd, c.serial});
      }
    }
  }
  UpdateInterest(c);
}

void Server::UpdateInterest(Connection& c) {
  size_t pending = c.out.size() - c.out_sent;
  uint32_t want = 0;
  if (c.lingering) {
    want = EPOLLIN;
  } else {
    if (!c.peer_closed && !c.close_after_flush && c.in.size() < kMaxBufferedInput &&
        pending < kMaxPendingOutput) {
      want |= EPOLLIN;
    }
    if (pending > 0) want |= EPOLLOUT;
  }
  if (want == c.interest) return;
  epoll_event ev{};
  ev.events = want;
  ev.data.u64 = Tag(c.fd, c.serial);
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
  c.interest = want;
}

void Server::Close(Connection& c) {
  int fd = c.fd;
  close(fd);  // also removes it from the epoll set
  connections_[fd].reset();
  --live_connections_;
}

void Server::BeginStop() {
  stopping_ = true;
  stop_deadline_us_ = now_us_ + kDrainTimeoutUs;
  close(listen_fd_);
  listen_fd_ = -1;
  for (auto& c : connections_) {
    if (c && (c->lingering || Idle(*c))) Close(*c);
  }
}

void Server::FireDeadlines() {
  while (!delays_.empty() && delays_.front().at_us <= now_us_) {
    Deadline d = delays_.front();
    delays_.pop_front();
    Connection* c = Find(d.fd, d.serial);
    if (c == nullptr || !c->waiting) continue;
    c->waiting = false;
    c->out += c->held;
    c->held.clear();
    if (c->held_close) c->close_after_flush = true;
    if (c->close_after_flush) {
      c->in.clear();
    } else {
      size_t used = Consume(*c, c->in);
      c->in.erase(0, used);
    }
    Settle(*c);
  }
  while (!lingers_.empty() && lingers_.front().at_us <= now_us_) {
    Deadline d = lingers_.front();
    lingers_.pop_front();
    if (Connection* c = Find(d.fd, d.serial); c != nullptr && c->lingering) Close(*c);
  }
}

int Server::EpollTimeoutMs() const {
  int64_t next = -1;
  auto consider = [&](int64_t at) { next = (next < 0 || at < next) ? at : next; };
  if (!delays_.empty()) consider(delays_.front().at_us);
  if (!lingers_.empty()) consider(lingers_.front().at_us);
  if (stopping_) consider(stop_deadline_us_);
  if (next < 0) return -1;
  int64_t wait_us = next - now_us_;
  return wait_us <= 0 ? 0 : static_cast<int>((wait_us + 999) / 1000);
}

}  // namespace sample
