// http::Server's internals, shared by its listeners (server.cc) and its sessions
// (session.cc). Internal to http/.
#pragma once

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "http/server.h"

namespace lastgood::http {

struct Listener {
  // Constant after Listen*.
  Limits limits;
  Handler handler;
  BodyTaker taker;  // may be empty
  std::unique_ptr<boost::asio::local::stream_protocol::acceptor> unix_acceptor;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> tcp_acceptor;
  std::optional<boost::asio::ssl::context> tls;
  std::string path;  // the unix socket's file, removed by Stop
  std::thread thread;

  // GUARDED_BY(Server::Impl::mu)
  int connections = 0;
  std::map<std::string, int> per_address;
  int64_t last_full_log = 0;  // steady milliseconds of the last "full" log line
};

struct Server::Impl {
  boost::asio::io_context io;  // the acceptors'; each connection runs one of its own
  std::vector<std::unique_ptr<Listener>> listeners;  // constant after Start
  std::atomic<bool> stopping{false};

  std::mutex mu;
  std::condition_variable idle;
  int connections = 0;                          // GUARDED_BY(mu), all listeners
  std::set<boost::asio::io_context*> sessions;  // GUARDED_BY(mu): stopped by Stop

  void AcceptUnix(Listener& l);
  void AcceptTcp(Listener& l);
  // Counts a connection from `host` in, unless the listener is at one of its limits; then
  // *why says which.
  bool Admit(Listener& l, const std::string& host, std::string* why);
  void Release(Listener& l, const std::string& host);
  // Serves one accepted connection to its end on the calling thread (session.cc).
  void ServeUnix(Listener& l, int fd, Peer peer);
  void ServeTcp(Listener& l, int fd, const boost::asio::ip::tcp::endpoint& local, Peer peer);
  // Registers a session's context so that Stop can stop it; false when stopping already.
  bool Register(boost::asio::io_context* session);
  void Unregister(boost::asio::io_context* session);
};

// Calls the handler; what it throws becomes a 500 and a log line.
Answer CallHandler(const Listener& l, const Peer& peer, Request& request);

}  // namespace lastgood::http
