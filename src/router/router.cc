#include "router/router.h"

#include <malloc.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "base/build_id.h"
#include "router/address.h"
#include "router/admin_server.h"
#include "router/compiled_table.h"
#include "router/control_server.h"
#include "router/keeper_link.h"
#include "router/listen_sockets.h"
#include "router/metrics.h"
#include "router/socket_handoff.h"
#include "router/stats_carry.h"
#include "router/table_store.h"
#include "router/worker.h"
#include "router/worker_count.h"

namespace lastgood {
namespace {

namespace asio = boost::asio;

// How often an address that could not be bound is tried again.
constexpr std::chrono::seconds kRebindInterval{1};
// How long a worker waits for its keeper's sockets at start.
constexpr int kKeeperSocketsTimeoutMs = 5000;
// The key under which the keeper holds the admin socket (table addresses have a port).
constexpr const char* kAdminKey = "admin";

void Log(const std::string& line) { fprintf(stderr, "lastgood router: %s\n", line.c_str()); }

Status WriteSmallFile(const std::string& path, const std::string& text) {
  std::string temp = path + ".tmp";
  {
    std::ofstream out(temp, std::ios::trunc);
    out << text;
    if (!out) return Error::Internal("cannot write " + temp + ": " + strerror(errno));
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    return Error::Internal("cannot rename to " + path + ": " + strerror(errno));
  }
  return Status::Ok();
}

class RouterImpl : public Router {
 public:
  RouterImpl(const RouterOptions& options, int threads)
      : options_(options), threads_(threads), shared_(options, threads) {}

  ~RouterImpl() override { Shutdown(); }

  Status Open() {
    std::error_code fs_error;
    std::filesystem::create_directories(options_.home, fs_error);
    if (fs_error)
      return Error::Internal("cannot create " + options_.home + ": " + fs_error.message());
    for (int i = 0; i < threads_; ++i) {
      workers_.push_back(std::make_unique<Worker>(i, shared_));
    }
    if (options_.keeper_channel >= 0) LG_RETURN_IF_ERROR(ReceiveInherited());
    // The control socket first, then the table: a table pushed to a predecessor until its
    // path became ours is on disk by the time it is read.
    ControlHandlers handlers;
    handlers.apply = [this](const RoutingTable& t) { return Apply(t); };
    handlers.stats = [this](Millis window) { return Stats(window); };
    handlers.health = [this] { return Health(); };
    auto control = StartControlServer(control_io_, Path("router.sock"), handlers,
                                      /*replace_live=*/options_.keeper_channel >= 0);
    if (!control.ok()) return control.error();
    control_ = std::move(*control);
    auto loaded = LoadTable(Path(kTableFileName));
    if (!loaded.ok()) return loaded.error();
    LG_RETURN_IF_ERROR(OpenAdmin());
    for (auto& w : workers_) w->Start();
    if (loaded->has_value()) {
      auto applied = ApplyLocked(**loaded, /*persist=*/false);
      if (!applied.ok()) {
        Error e = applied.error();
        e.message = "cannot restore " + Path(kTableFileName) + ": " + e.message;
        return e;
      }
    }
    // Sockets handed over for addresses no longer in the table.
    for (auto& [address, fds] : inherited_) {
      for (int fd : fds) ::close(fd);
      Tell("drop " + address);
    }
    inherited_.clear();
    ScheduleRebind();
    control_thread_ = std::thread([this] {
      auto guard = asio::make_work_guard(control_io_);
      control_io_.run();
    });
    admin_thread_ = std::thread([this] {
      auto guard = asio::make_work_guard(admin_io_);
      admin_io_.run();
    });
    LG_RETURN_IF_ERROR(WriteSmallFile(Path("router.pid"), std::to_string(getpid()) + "\n"));
    LG_RETURN_IF_ERROR(WriteSmallFile(Path("router.admin"), AdminAddress() + "\n"));
    // After the start the keeper sends only the statistics of the worker this one replaces,
    // once that one has drained: any table it was still answering is on disk by then.
    keeper_.Listen([this](const HandoffMessage& m) {
      if (m.text != "stats" || m.fds.size() != 1) return;
      TakeStats(m.fds[0]);
      AdoptTableWrittenByAnother();
    });
    served_ = true;
    Tell("ready");
    return Status::Ok();
  }

  Result<uint64_t> Apply(const RoutingTable& table) override { return ApplyLocked(table, true); }

  RouterStats Stats(std::chrono::milliseconds window) override {
    // The controller reads stats every few seconds while it runs: a good moment to give
    // back the series of backends that left the table more than a window ago.
    DropRetiredStats();
    RouterStats stats = shared_.stats.Read(window);
    stats.statsSinceMillis = stats_since_ms_.load();
    return stats;
  }

  uint16_t ListenerPort(const std::string& address) override {
    std::lock_guard<std::mutex> lock(apply_mu_);
    auto it = listeners_.find(address);
    return it == listeners_.end() ? 0 : it->second.bound.port();
  }

  std::string AdminAddress() override { return admin_ ? admin_->Address() : ""; }

  RouterHealth Health() override {
    RouterHealth h;
    h.generation = generation_.load();
    h.pid = static_cast<int>(getpid());
    h.buildId = BuildId();
    h.statsSinceMillis = stats_since_ms_.load();
    h.listeners = ListenerStates();
    return h;
  }

  void Shutdown() override {
    if (stopped_.exchange(true)) return;
    keeper_.StopSoon();
    shared_.drain_started_ms.store(NowMillis());
    shared_.draining.store(true);
    for (auto& w : workers_) w->RemoveAllListeners();
    // The control socket and the admin address go first, for a successor to take; a table
    // change in progress ends before (apply_mu_).
    if (control_) asio::post(control_io_, [this] { control_->Close(); });
    if (admin_) asio::post(admin_io_, [this] { admin_->Close(); });
    control_io_.stop();
    admin_io_.stop();
    if (control_thread_.joinable()) control_thread_.join();
    if (admin_thread_.joinable()) admin_thread_.join();
    rebind_timer_.cancel();
    if (control_) control_->Close();
    if (admin_) admin_->Close();
    // With a keeper, the listening sockets stay open (it holds them) and it starts the
    // successor now; connections wait in their backlog meanwhile.
    Tell("draining");
    // In-flight requests finish and keep-alive connections get their next request answered
    // (with Connection: close); connections idle for kDrainIdleCloseMillis are closed by the
    // workers' tickers.
    auto deadline = std::chrono::steady_clock::now() + options_.shutdown_grace;
    while (shared_.connections.load() > 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    for (auto& w : workers_) w->Stop();
    keeper_.Stop();
    HandStatsOver();
    // Leave the files of a successor alone.
    if (std::atoi(ReadSmallFile(Path("router.pid")).c_str()) == static_cast<int>(getpid())) {
      ::unlink(Path("router.pid").c_str());
      ::unlink(Path("router.admin").c_str());
    }
  }

 private:
  // A retired series holds up to kStatsWindowSeconds latency histograms per worker (~2.8 KB
  // each), many small blocks that free() keeps in the heap; give them back to the system.
  void DropRetiredStats() {
    if (shared_.stats.DropRetired(StatsSecond()) > 0) malloc_trim(0);
  }

  std::string Path(const char* name) const { return options_.home + "/" + name; }

  // After a drain, nothing records any more: the counters go to the keeper, which hands them
  // to the successor if there is one (router/stats_carry.h).
  void HandStatsOver() {
    if (options_.keeper_channel < 0 || !served_) return;  // no keeper was ever there
    CarriedStats carried = shared_.stats.Export(StatsSecond());
    carried.stats_since_ms = stats_since_ms_.load();
    auto file = WriteCarriedStatsFile(carried);
    if (!file.ok()) {
      Log("statistics not handed over: " + file.error().message);
      return;
    }
    Tell("stats", {*file});
    ::close(*file);
  }

  void TakeStats(int fd) {
    auto carried = ReadCarriedStatsFile(fd);
    if (!carried.ok()) {
      Log("the previous worker's statistics are not carried over (" + carried.error().message +
          "): they are complete from this worker's start");
      return;
    }
    shared_.stats.Carry(*carried, StatsSecond());
    int64_t since = stats_since_ms_.load();
    if (carried->stats_since_ms > 0 && carried->stats_since_ms < since)
      stats_since_ms_.store(carried->stats_since_ms);
    Log("carried over the previous worker's statistics (" + std::to_string(carried->series.size()) +
        " series)");
  }

  static std::string ReadSmallFile(const std::string& path) {
    std::ifstream in(path);
    std::string text;
    std::getline(in, text);
    return text;
  }

  // To the keeper, if there is one; a keeper that is gone changes nothing here.
  void Tell(const std::string& text, const std::vector<int>& fds = {}) { keeper_.Tell(text, fds); }

  // The sockets the keeper holds, by address, until "end".
  Status ReceiveInherited() {
    for (;;) {
      auto m = ReceiveHandoff(options_.keeper_channel, kKeeperSocketsTimeoutMs);
      if (!m.ok()) return Error::Unavailable("the keeper's sockets: " + m.error().message);
      if (m->text == "end") return Status::Ok();
      auto& fds = inherited_[m->text.substr(5)];
      if (m->text.rfind("hold ", 0) == 0 || m->text.rfind("more ", 0) == 0) {
        fds.insert(fds.end(), m->fds.begin(), m->fds.end());
      } else {
        for (int fd : m->fds) ::close(fd);
      }
    }
  }

  // The listening sockets for `address`: those handed over by the keeper (topped up to one
  // per worker), else new ones.
  Result<ListenSockets> Sockets(const std::string& address) {
    auto endpoint = ParseAddress(address, true).value();
    auto it = inherited_.find(address);
    if (it == inherited_.end() || it->second.empty())
      return OpenListenSockets(endpoint, static_cast<int>(workers_.size()));
    ListenSockets out;
    out.fds = std::move(it->second);
    inherited_.erase(it);
    socklen_t len = static_cast<socklen_t>(out.bound.capacity());
    ::getsockname(out.fds[0], out.bound.data(), &len);
    int missing = static_cast<int>(workers_.size()) - static_cast<int>(out.fds.size());
    if (missing > 0) {
      auto more = OpenListenSockets(out.bound, missing);
      if (more.ok()) out.fds.insert(out.fds.end(), more->fds.begin(), more->fds.end());
    }
    return out;
  }

  // Hands `sockets` to the workers (more sockets than workers: some take two).
  void GiveToWorkers(uint32_t id, const ListenSockets& sockets) {
    for (size_t i = 0; i < sockets.fds.size(); ++i)
      workers_[i % workers_.size()]->AddListener(id, sockets.fds[i], sockets.bound);
  }

  // The admin address: the keeper's socket when it is the one asked for, else a new one
  // (handed to the keeper).
  Status OpenAdmin() {
    auto it = inherited_.find(kAdminKey);
    int fd = -1;
    if (it != inherited_.end() && it->second.size() == 1) {
      fd = it->second[0];
      it->second.clear();
      asio::ip::tcp::endpoint bound;
      socklen_t len = static_cast<socklen_t>(bound.capacity());
      ::getsockname(fd, bound.data(), &len);
      auto wanted = ParseAddress(options_.admin, true, "admin");
      bool same = wanted.ok() && wanted->address() == bound.address() &&
                  (wanted->port() == 0 || wanted->port() == bound.port());
      if (!same) {
        ::close(fd);
        fd = -1;
      }
    }
    if (it != inherited_.end()) {
      for (int other : it->second) ::close(other);
      inherited_.erase(it);
    }
    if (options_.admin.empty()) {
      if (fd >= 0) ::close(fd);
      Tell(std::string("drop ") + kAdminKey);
      return Status::Ok();
    }
    if (fd < 0 && options_.keeper_channel >= 0) {
      // Bound here so that the keeper can hold it: a successor then serves the same port.
      auto endpoint = ParseAddress(options_.admin, true, "admin");
      if (!endpoint.ok()) return endpoint.error();
      auto sockets = OpenListenSockets(*endpoint, 1);
      if (!sockets.ok()) return sockets.error();
      fd = sockets->fds[0];
    }
    auto admin = StartAdminServer(admin_io_, options_.admin, fd, [this] {
      DropRetiredStats();
      return PrometheusText(shared_.stats, Gauges());
    });
    if (!admin.ok()) return admin.error();
    admin_ = std::move(*admin);
    if (fd >= 0) Tell(std::string("hold ") + kAdminKey, {fd});
    return Status::Ok();
  }

  RouterGauges Gauges() {
    RouterGauges g;
    g.table_generation = generation_.load();
    g.refused_over_limit = shared_.refused_over_limit.load(std::memory_order_relaxed);
    g.refused_per_client = shared_.refused_per_client.load(std::memory_order_relaxed);
    g.listeners = ListenerStates();
    return g;
  }

  std::vector<ListenerState> ListenerStates() {
    std::lock_guard<std::mutex> lock(apply_mu_);
    std::vector<ListenerState> out;
    for (const auto& [address, l] : listeners_) out.push_back({address, true, ""});
    for (const auto& [address, why] : unbound_) out.push_back({address, false, why});
    return out;
  }

  // Opens the listening sockets of `address` and hands them to the workers.
  // REQUIRES: apply_mu_ held.
  Status Bind(const std::string& address) {
    auto sockets = Sockets(address);
    if (!sockets.ok()) return sockets.error();
    uint32_t id = listener_ids_.Of(address);
    Tell("hold " + address, sockets->fds);
    GiveToWorkers(id, *sockets);
    listeners_[address] = {id, sockets->bound};
    return Status::Ok();
  }

  // Tries the addresses that could not be bound again, every kRebindInterval, on the
  // control thread: a port freed, or an address back after a reboot, starts serving.
  void ScheduleRebind() {
    rebind_timer_.expires_after(kRebindInterval);
    rebind_timer_.async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      {
        std::lock_guard<std::mutex> lock(apply_mu_);
        for (auto it = unbound_.begin(); it != unbound_.end();) {
          if (Bind(it->first).ok()) {
            Log("now listening on " + it->first);
            it = unbound_.erase(it);
          } else {
            ++it;
          }
        }
      }
      ScheduleRebind();
    });
  }

  // The predecessor may have answered a table change after this worker read the file (during
  // a take-over, a PUT it accepted before router.sock became ours). Once it has drained (its
  // statistics came), whatever it persisted is on disk: a newer generation is adopted, as if
  // pushed; the same or an older one changes nothing.
  void AdoptTableWrittenByAnother() {
    auto loaded = LoadTable(Path(kTableFileName));
    if (!loaded.ok() || !loaded->has_value()) return;
    {
      std::lock_guard<std::mutex> lock(apply_mu_);
      if (have_table_ && (*loaded)->generation <= current_.generation) return;
    }
    auto applied = ApplyLocked(**loaded, /*persist=*/false);
    if (applied.ok()) {
      Log("adopted table generation " + std::to_string(*applied) + " from " + Path(kTableFileName) +
          ", written by another router process");
    }
  }

  Result<uint64_t> ApplyLocked(const RoutingTable& table, bool persist) {
    std::lock_guard<std::mutex> lock(apply_mu_);
    if (have_table_ && table.generation < current_.generation) {
      return Error::Conflict("table generation " + std::to_string(table.generation) +
                             " is older than the one in force (" +
                             std::to_string(current_.generation) + ")");
    }
    // Open new listeners first. One that cannot be bound (port taken, address gone) does
    // not stop the others: it is reported (health, /metrics, the log) and tried again.
    std::map<std::string, ListenSockets> opened;
    std::map<std::string, std::string> unbound;
    for (const auto& l : table.listeners) {
      const std::string& address = l.address;
      if (listeners_.count(address) || opened.count(address) || unbound.count(address)) continue;
      auto sockets = Sockets(address);
      if (!sockets.ok()) {
        unbound[address] = sockets.error().message;
        continue;
      }
      opened[address] = std::move(*sockets);
    }
    // In force first, persisted second: new requests see the table within microseconds of
    // the call, and the caller's acknowledgement still waits for the fsync. If persisting
    // fails, the previous table comes back and the error is returned.
    auto compiled = CompileTable(table, pool_ids_, listener_ids_, shared_.stats);
    shared_.Publish(compiled);
    if (persist) {
      Status saved = SaveTable(Path(kTableFileName), table);
      if (!saved.ok()) {
        shared_.Publish(compiled_);
        for (auto& w : workers_) w->Refresh();
        for (auto& [a, s] : opened) CloseListenSockets(s);
        return saved.error();
      }
    }
    compiled_ = std::move(compiled);
    DropRetiredStats();
    for (auto& [address, sockets] : opened) {
      uint32_t id = listener_ids_.Of(address);
      Tell("hold " + address, sockets.fds);
      GiveToWorkers(id, sockets);
      listeners_[address] = {id, sockets.bound};
    }
    std::set<std::string> wanted;
    for (const auto& l : table.listeners) wanted.insert(l.address);
    for (auto& [address, why] : unbound) {
      auto was = unbound_.find(address);
      if (was == unbound_.end() || was->second != why) Log(why + "; serving the other listeners");
      unbound_[address] = why;
    }
    std::erase_if(unbound_, [&](const auto& entry) { return !wanted.count(entry.first); });
    for (auto it = listeners_.begin(); it != listeners_.end();) {
      if (wanted.count(it->first)) {
        ++it;
        continue;
      }
      for (auto& w : workers_) w->RemoveListener(it->second.id);
      Tell("drop " + it->first);
      it = listeners_.erase(it);
    }
    for (auto& w : workers_) w->Refresh();
    current_ = table;
    have_table_ = true;
    generation_.store(table.generation);
    return table.generation;
  }

  struct OpenListener {
    uint32_t id;
    asio::ip::tcp::endpoint bound;
  };

  const RouterOptions options_;
  const int threads_;
  RouterShared shared_;
  std::vector<std::unique_ptr<Worker>> workers_;
  asio::io_context control_io_{1};
  std::thread control_thread_;
  std::unique_ptr<ControlServer> control_;
  asio::steady_timer rebind_timer_{control_io_};
  // The admin port has a thread of its own: a scrape never waits for a table change.
  asio::io_context admin_io_{1};
  std::thread admin_thread_;
  std::unique_ptr<AdminServer> admin_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<bool> stopped_{false};
  bool served_ = false;  // Open() succeeded: there are statistics worth handing over
  KeeperLink keeper_{options_.keeper_channel,
                     {options_.home, options_.admin, threads_, options_.max_connections}};
  // Wall clock from which the statistics are complete: this process's start, or its
  // predecessor's once that one's counters are carried over (docs/router.md, "Statistics
  // across restarts").
  std::atomic<int64_t> stats_since_ms_{std::chrono::duration_cast<std::chrono::milliseconds>(
                                           std::chrono::system_clock::now().time_since_epoch())
                                           .count()};

  std::mutex apply_mu_;  // serializes table changes; guards the members below
  StableIds pool_ids_, listener_ids_;
  std::map<std::string, OpenListener> listeners_;
  std::map<std::string, std::string> unbound_;  // table addresses not bound: why
  // Sockets the keeper handed over at start, by address (and kAdminKey), until used.
  std::map<std::string, std::vector<int>> inherited_;
  RoutingTable current_;
  std::shared_ptr<const CompiledTable> compiled_;  // the table in force
  bool have_table_ = false;
};

}  // namespace

Result<std::unique_ptr<Router>> Router::Start(const RouterOptions& options) {
  if (options.home.empty()) return Error::InvalidInput("the router needs a home directory", "home");
  CpuLimits limits = ReadCpuLimits();
  int threads = WorkerCount(options.threads, limits);
  if (options.threads <= 0) {
    std::string quota = limits.quota ? std::to_string(*limits.quota) : "none";
    Log(std::to_string(threads) + " worker thread(s): " + std::to_string(limits.affinity) +
        " CPU(s) in the affinity mask, cgroup CPU quota " + quota + " (--threads N to choose)");
  }
  auto router = std::make_unique<RouterImpl>(options, threads);
  Status s = router->Open();
  if (!s.ok()) {
    router->Shutdown();
    return s.error();
  }
  return std::unique_ptr<Router>(std::move(router));
}

int RunRouter(const RouterOptions& options) {
  // Block the stop signals in every thread; this one waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  // Each client connection may need an upstream one too: allow as many descriptors as the
  // hard limit permits.
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }
  auto router = Router::Start(options);
  if (!router.ok()) {
    fprintf(stderr, "lastgood router: %s\n", router.error().ToString().c_str());
    return ExitCodeFor(router.error().code);
  }
  fprintf(stderr, "lastgood router: serving; control socket %s/router.sock, admin %s\n",
          options.home.c_str(), (*router)->AdminAddress().c_str());
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  fprintf(stderr, "lastgood router: stopping (signal %d)\n", signal_number);
  (*router)->Shutdown();
  return 0;
}

}  // namespace lastgood
