// Worker: one thread with its own io_context, serving the client connections it accepts on
// its own SO_REUSEPORT listening sockets. The request path runs only on worker threads and
// takes no lock: the table is re-read only when RouterShared's serial changes, and the
// round-robin state, idle upstream pools and stats cells are per worker.
//
// RouterShared is the state all threads see. The control thread publishes tables and posts
// listener changes; workers read. Thread-safe as documented per member.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "router/client_limits.h"
#include "router/compiled_table.h"
#include "router/parked_connections.h"
#include "router/router.h"
#include "router/stats_window.h"

namespace lastgood {

using tcp = boost::asio::ip::tcp;

struct RouterShared {
  explicit RouterShared(const RouterOptions& o, int threads) : options(o), stats(threads) {}

  // Any thread. The table for new requests; workers notice through `serial`.
  void Publish(std::shared_ptr<const CompiledTable> table);

  const RouterOptions options;  // constant after construction
  StatsRegistry stats;
  std::atomic<uint64_t> serial{0};  // bumped after each Publish
  std::mutex table_mu;
  std::shared_ptr<const CompiledTable> table;  // guarded by table_mu
  std::atomic<int> connections{0};             // open client connections, all workers
  std::atomic<bool> draining{false};
  std::atomic<int64_t> drain_started_ms{0};  // NowMillis() when draining began
  ClientLimits clients;  // per client address, on listeners with maxConnectionsPerClient
  // Connections reset at accept: past max_connections, past a listener's per-client limit.
  std::atomic<uint64_t> refused_over_limit{0}, refused_per_client{0};
};

// A connection's deadline, checked by its worker's ticker. On expiry the ticker sets
// `expired` and cancels the sockets, so the pending operation fails with operation_aborted.
struct Watch {
  int64_t deadline_ms = 0;  // 0: none
  bool expired = false;
  bool idle = false;  // waiting for the next request with no byte of it read
  bool park = false;  // set by the ticker: end the session, park the connection
  int64_t idle_since_ms = 0;
  tcp::socket* client = nullptr;
  tcp::socket* upstream = nullptr;
  Watch* prev = nullptr;
  Watch* next = nullptr;
};

int64_t NowMillis();

// An idle keep-alive connection ends its session and is parked after this long.
inline constexpr int64_t kParkAfterMillis = 100;
// While draining, a keep-alive connection gets `Connection: close` on its next response;
// one that stays idle this long is closed then. Closing an idle connection at once would
// race a client that is sending its next request on it just then (a failed request); a
// client that sends within this time is answered instead.
inline constexpr int64_t kDrainIdleCloseMillis = 1000;

class Worker {
 public:
  Worker(int index, RouterShared& shared);
  ~Worker();

  void Start();
  // Stops the io_context and joins the thread; open connections are dropped.
  void Stop();

  // Control thread: posts. `fd` is a bound, listening socket that the worker now owns.
  void AddListener(uint32_t id, int fd, const tcp::endpoint& endpoint);
  void RemoveListener(uint32_t id);
  void RemoveAllListeners();
  // Control thread: makes the worker adopt the newest table now (drops idle connections to
  // backends that left), rather than at its next request.
  void Refresh();

  // Worker thread only, below.
  int index() const { return index_; }
  RouterShared& shared() { return shared_; }
  boost::asio::io_context& io() { return io_; }
  const std::shared_ptr<const CompiledTable>& Table() {
    if (shared_.serial.load(std::memory_order_acquire) != seen_serial_) Adopt();
    return table_;
  }
  int64_t* swrr() { return swrr_.data(); }
  uint32_t* round_robin() { return round_robin_.data(); }
  std::optional<tcp::socket> TakeUpstream(uint32_t pool, int64_t now_ms);
  void ReturnUpstream(uint32_t pool, tcp::socket socket, int64_t now_ms);
  ParkedConnections& parked() { return parked_; }
  void AddWatch(Watch* w);
  void RemoveWatch(Watch* w);

 private:
  struct IdleUpstream {
    tcp::socket socket;
    int64_t since_ms;
  };
  void Adopt();
  boost::asio::awaitable<void> Accept(tcp::acceptor& acceptor, uint32_t id);
  boost::asio::awaitable<void> Tick();

  const int index_;
  RouterShared& shared_;
  Watch watches_;  // list head; outlives io_, whose pending sessions unlink from it
  boost::asio::io_context io_{1};
  ParkedConnections parked_{*this};  // made after io_, gone before it
  std::thread thread_;
  // By listener id; more than one when a take-over handed over more sockets than workers.
  std::multimap<uint32_t, std::unique_ptr<tcp::acceptor>> acceptors_;
  uint64_t seen_serial_ = ~uint64_t{0};
  std::shared_ptr<const CompiledTable> table_;
  std::vector<int64_t> swrr_;
  std::vector<uint32_t> round_robin_;
  std::vector<std::vector<IdleUpstream>> idle_;  // by pool id
};

}  // namespace lastgood
