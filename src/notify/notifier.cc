// Notifier: one io_context thread; one queue and one draining coroutine per url, so that a
// url's deliveries keep their order and a hanging receiver delays only its own.
#include "notify/notifier.h"

#include <openssl/rand.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "notify/delivery.h"

namespace lastgood {
namespace {

namespace asio = boost::asio;
using notify_internal::PostRequest;
using notify_internal::PostResult;
using notify_internal::WebhookTarget;

struct Delivery {
  uint64_t seq = 0;  // Send order, for dropping the oldest
  std::string url;
  PostRequest request;
  int attempts = 0;
  std::string unsigned_because;  // set when secretEnv named a variable that is not set
};

struct Endpoint {
  std::string url;
  WebhookTarget target;
  std::deque<Delivery> queue;
  bool busy = false;  // a Drain coroutine runs; queue.front() is the delivery it works on
};

// A random (version 4) UUID: the X-Lastgood-Delivery of one event to one webhook.
std::string NewDeliveryId() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) {
    for (auto& c : b) c = static_cast<unsigned char>(std::rand());
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) id += '-';
    id += kHex[b[i] >> 4];
    id += kHex[b[i] & 0xf];
  }
  return id;
}

bool Wants(const Webhook& hook, const std::string& event) {
  return hook.events.empty() ||
         std::find(hook.events.begin(), hook.events.end(), event) != hook.events.end();
}

}  // namespace

struct Notifier::Impl {
  explicit Impl(NotifierOptions o) : options(std::move(o)) {
    boost::system::error_code ec;
    tls.set_default_verify_paths(ec);
    if (ec) Log("webhook TLS: no system CA certificates: " + ec.message());
    if (!options.caFile.empty()) {
      tls.load_verify_file(options.caFile, ec);
      if (ec) Log("webhook TLS: cannot load " + options.caFile + ": " + ec.message());
    }
    thread = std::thread([this] {
      while (true) {
        try {
          ioc.run();
          return;
        } catch (const std::exception& e) {
          Log(std::string("webhook delivery error: ") + e.what());
        }
      }
    });
  }

  void Log(const std::string& line) {
    if (options.log) options.log(line);
  }

  Millis Backoff(int attempts) const {
    Millis wait = options.firstBackoff;
    for (int i = 1; i < attempts && wait < options.maxBackoff; ++i) wait *= 2;
    return std::min(wait, options.maxBackoff);
  }

  // On the io_context thread from here on.
  void Finish(Endpoint& ep, std::atomic<uint64_t>& counter) {
    ep.queue.pop_front();
    --queued;
    ++counter;
    --pending;
  }

  void Enqueue(Delivery d) {
    if (!d.unsigned_because.empty()) Log(d.unsigned_because);
    auto& ep = endpoints[d.url];
    if (!ep) {
      auto target = notify_internal::ParseWebhookUrl(d.url);
      if (!target.ok()) {
        Log("webhook url refused: " + target.error().message);
        ++failed;
        --pending;
        return;
      }
      ep = std::make_shared<Endpoint>();
      ep->url = d.url;
      ep->target = *target;
    }
    ep->queue.push_back(std::move(d));
    ++queued;
    while (queued > options.queueLimit && DropOldest()) {
    }
    if (!ep->busy && !ep->queue.empty()) {
      ep->busy = true;
      asio::co_spawn(ioc, Drain(ep), [this](std::exception_ptr e) {
        if (e) Log("webhook delivery stopped by an internal error");
      });
    }
  }

  // Drops the oldest delivery that no coroutine is working on; false when there is none.
  bool DropOldest() {
    Endpoint* victim = nullptr;
    for (auto& [url, ep] : endpoints) {
      size_t first = ep->busy ? 1 : 0;
      if (ep->queue.size() > first &&
          (victim == nullptr || ep->queue[first].seq < victim->queue[victim->busy ? 1 : 0].seq)) {
        victim = ep.get();
      }
    }
    if (victim == nullptr) return false;
    auto it = victim->queue.begin() + (victim->busy ? 1 : 0);
    Log("webhook " + victim->target.label + ": queue full, dropped a '" + it->request.event +
        "' event");
    victim->queue.erase(it);
    --queued;
    ++dropped;
    --pending;
    return true;
  }

  asio::awaitable<void> Drain(std::shared_ptr<Endpoint> ep) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    while (!ep->queue.empty() && !stopping) {
      PostRequest request = ep->queue.front().request;  // the front stays ours while busy
      {
        std::lock_guard lock(mu);
        ++in_flight;
      }
      PostResult result =
          co_await notify_internal::PostOnce(ep->target, request, options.attemptTimeout, tls);
      {
        std::lock_guard lock(mu);
        --in_flight;
      }
      idle.notify_all();
      int attempts = ++ep->queue.front().attempts;
      if (result.status >= 200 && result.status < 300) {
        Finish(*ep, delivered);
        continue;
      }
      bool retry = result.status == 0 || result.status == 429 || result.status >= 500;
      std::string seen =
          result.status == 0 ? result.error : "answered " + std::to_string(result.status);
      if (!retry || attempts >= options.maxAttempts) {
        Log("webhook " + ep->target.label + ": gave up on a '" + request.event + "' event after " +
            std::to_string(attempts) + (attempts == 1 ? " attempt: " : " attempts: ") + seen);
        Finish(*ep, failed);
        continue;
      }
      timer.expires_after(Backoff(attempts));
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    ep->busy = false;
    // An idle url keeps no state, so that urls of old versions do not pile up.
    if (ep->queue.empty() && !stopping) endpoints.erase(ep->url);
  }

  // Constant after construction.
  const NotifierOptions options;
  asio::ssl::context tls{asio::ssl::context::tls_client};

  // Only on the io_context thread.
  std::map<std::string, std::shared_ptr<Endpoint>> endpoints;
  size_t queued = 0;

  // Any thread.
  std::atomic<uint64_t> next_seq{0}, delivered{0}, failed{0}, dropped{0}, pending{0};
  std::atomic<bool> stopping{false};
  std::mutex mu;
  std::condition_variable idle;
  int in_flight = 0;  // guarded by mu

  // Declared last: destroyed first, with the coroutine frames it still holds, while the
  // members above are still alive.
  asio::io_context ioc{1};
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(ioc);
  std::thread thread;
};

Notifier::Notifier(NotifierOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Notifier::~Notifier() {
  impl_->stopping = true;
  impl_->work.reset();
  {
    std::unique_lock lock(impl_->mu);
    impl_->idle.wait_for(lock, impl_->options.stopWait, [&] { return impl_->in_flight == 0; });
  }
  impl_->ioc.stop();
  impl_->thread.join();
  impl_->dropped += impl_->pending.exchange(0);
}

void Notifier::Send(const std::vector<Webhook>& hooks, const DeploymentEvent& event) {
  if (impl_->stopping) return;
  std::string body;
  for (const Webhook& hook : hooks) {
    if (!Wants(hook, event.event)) continue;
    if (body.empty()) body = EventBody(event);
    Delivery d;
    d.seq = impl_->next_seq++;
    d.url = hook.url;
    d.request = {event.event, NewDeliveryId(), "", body};
    // A version stored before secretEnv was held to its prefix may name any variable: such a
    // name is never read (the manifest refuses it at apply since).
    if (!hook.secretEnv.empty() && hook.secretEnv.rfind(kWebhookSecretEnvPrefix, 0) != 0) {
      d.unsigned_because = "webhook: secretEnv " + hook.secretEnv + " does not start with " +
                           kWebhookSecretEnvPrefix + "; sending unsigned";
    } else if (!hook.secretEnv.empty()) {
      const char* key = std::getenv(hook.secretEnv.c_str());
      if (key != nullptr && *key != '\0') {
        d.request.signature = SignBody(key, body);
      } else {
        d.unsigned_because = "webhook: " + hook.secretEnv + " is not set; sending unsigned";
      }
    }
    ++impl_->pending;
    asio::post(impl_->ioc,
               [impl = impl_.get(), d = std::move(d)]() mutable { impl->Enqueue(std::move(d)); });
  }
}

NotifierStats Notifier::Stats() const {
  return {impl_->delivered.load(), impl_->failed.load(), impl_->dropped.load(),
          impl_->pending.load()};
}

}  // namespace lastgood
