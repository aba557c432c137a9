// The controller's metrics, in the Prometheus text format (docs/metrics.md): served at
// GET /metrics on the API (a viewer token over TCP) and, without a token, on the address of
// `serve --metrics`.
//
// Deployment, rollback, analysis and step figures are derived from the store's records, not
// counted in memory, so that they survive a controller restart: a restarted controller shows
// the same counters as before it stopped. What a finished deployment adds (history/figures.h)
// is read once, with its operations, and kept; a scrape then reads only the deployment rows
// and the figures of the records history.keep pruned, which the store keeps. The store's
// commit latency is the one figure measured in this process (store/commit_latency.h).
//
// Thread-safe: scrapes may come from several connections at once.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/mutex.h"
#include "base/result.h"
#include "http/server.h"
#include "store/store.h"
#include "wire/request.h"

namespace lastgood {

class ControllerMetrics {
 public:
  explicit ControllerMetrics(Store* store) : store_(store) {}

  // The whole exposition now. Unavailable when the store cannot be read.
  Result<std::string> Text();

 private:
  Store* store_;
  Mutex mu_;
  // (app, id) of each finished deployment seen → what it adds
  std::map<std::pair<std::string, int64_t>, std::vector<std::pair<std::string, double>>> finished_
      GUARDED_BY(mu_);
  std::map<std::string, double> shown_ GUARDED_BY(mu_);  // every series at the last scrape
};

// GET /metrics on the API: the text, or 503 naming why the store could not be read.
ApiResponse MetricsAnswer(ControllerMetrics& metrics);

// `serve --metrics ADDR`: a listener of its own on `server` that answers GET /metrics (and
// 404 to any other path, 405 to any other method), no token, a few connections at a time.
// Returns the bound address; Unavailable when it cannot be bound.
Result<std::string> ServeMetrics(http::Server* server, const boost::asio::ip::tcp::endpoint& at,
                                 ControllerMetrics* metrics);

}  // namespace lastgood
