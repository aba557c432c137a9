// Notifier: tells the manifest's webhooks about deployment events, in the background.
//
// Send() never blocks on the network: it builds the JSON body (docs/notifications.md), signs
// it when the webhook's secretEnv names a set variable, and queues one delivery per webhook
// that wants the event. One thread delivers: POST with Content-Type: application/json,
// User-Agent: lastgood, X-Lastgood-Event, X-Lastgood-Delivery (unique, the same on every
// retry) and X-Lastgood-Signature: sha256=<hex HMAC-SHA256 of the body>. A 2xx is delivered;
// connection errors, timeouts, 429 and 5xx are retried with doubling backoff; any other status
// gives up at once. Deliveries to one url keep the order of the Send() calls; different urls
// do not wait for each other.
//
// The queue is in memory: events not yet delivered when the controller stops or crashes are
// lost (the deployment history stays the source of truth). When more than queueLimit
// deliveries wait, the oldest waiting one is dropped and counted.
//
// Thread-safe: Send() and Stats() may be called from any thread. The secret is read from the
// environment inside Send() and never stored, logged or sent; log lines name a webhook by
// scheme://host:port only, since webhook paths often carry tokens.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/duration.h"
#include "manifest/manifest.h"

namespace lastgood {

struct DeploymentEvent {  // the JSON body, documented in docs/notifications.md
  std::string event;      // "started" | "succeeded" | "failed" | "rolledBack" | "canceled"
  std::string app, deployment, slot, kind, strategy, trigger, actor, state, reason;
  int version = 0, fromVersion = 0;  // fromVersion 0: none (rendered as null)
  int64_t at = 0;                    // epoch millis
};

struct NotifierOptions {
  int maxAttempts = 6;  // >= 1, the first attempt included
  Millis firstBackoff{500};
  Millis maxBackoff{30'000};
  Millis attemptTimeout{5000};  // connect + send + the response's status line and headers
  size_t queueLimit = 1000;     // deliveries waiting, all webhooks together
  Millis stopWait{1000};        // how long the destructor lets attempts in flight finish
  // A PEM file of CA certificates trusted for https webhooks besides the system's (a private
  // CA). Empty: the system's only.
  std::string caFile;
  // Told (from the notifier's thread) when a delivery gives up or is dropped, and when a
  // secretEnv is not set. Empty: silent.
  std::function<void(const std::string&)> log;
};

struct NotifierStats {
  uint64_t delivered = 0;  // answered 2xx
  uint64_t failed = 0;     // gave up: a final status, or maxAttempts used up
  uint64_t dropped = 0;    // pushed out of a full queue, or never delivered before the stop
  uint64_t pending = 0;    // waiting or in flight
};

class Notifier {
 public:
  explicit Notifier(NotifierOptions options = {});
  // Stops: waits at most options.stopWait for attempts in flight, drops the rest.
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // Queues `event` for each of `hooks` whose events include event.event. Never blocks.
  void Send(const std::vector<Webhook>& hooks, const DeploymentEvent& event);
  NotifierStats Stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The event a deployment that ended in `state` sends: "Succeeded" → "succeeded", "Failed" →
// "failed", "RolledBack" → "rolledBack", "Canceled" → "canceled"; "" for any other state.
std::string FinalEventFor(const std::string& state);
// The JSON body Send() posts for `event`.
std::string EventBody(const DeploymentEvent& event);
// "sha256=" + lower-case hex of HMAC-SHA256(key, body): the X-Lastgood-Signature value.
std::string SignBody(const std::string& key, const std::string& body);

}  // namespace lastgood
