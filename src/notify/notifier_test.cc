#include "notify/notifier.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "testutil/webhook_receiver.h"

namespace lastgood {
namespace {

using std::chrono::steady_clock;

using testutil::Received;
using testutil::Receiver;

NotifierOptions Fast() {
  NotifierOptions o;
  o.firstBackoff = Millis(20);
  o.maxBackoff = Millis(100);
  o.attemptTimeout = Millis(1000);
  return o;
}

DeploymentEvent Event(const std::string& name, int version = 7) {
  DeploymentEvent e;
  e.event = name;
  e.app = "web";
  e.deployment = "web-" + std::to_string(version);
  e.slot = "production";
  e.kind = "deploy";
  e.strategy = "canary";
  e.trigger = "user";
  e.actor = "alice";
  e.state = name == "started" ? "Running" : "Failed";
  e.reason = name == "started" ? "" : "analysis failed: error rate 5.1% > 1%";
  e.version = version;
  e.fromVersion = version - 1;
  e.at = 1'795'000'000'123;
  return e;
}

// Waits until `done(stats)` holds, for at most `limit`.
NotifierStats WaitStats(const Notifier& n, const std::function<bool(const NotifierStats&)>& done,
                        Millis limit = Millis(5000)) {
  auto until = steady_clock::now() + limit;
  NotifierStats s = n.Stats();
  while (!done(s) && steady_clock::now() < until) {
    std::this_thread::sleep_for(Millis(5));
    s = n.Stats();
  }
  return s;
}

TEST(Notifier, DeliversTheEventWithTheDocumentedHeadersAndBody) {
  Receiver receiver;
  Notifier notifier(Fast());
  notifier.Send({Webhook{receiver.Url(), {}, ""}}, Event("failed"));
  auto got = receiver.WaitFor(1);
  ASSERT_EQ(got.size(), 1u);
  Received& r = got[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/hooks/lastgood");
  EXPECT_EQ(r.headers["content-type"], "application/json");
  EXPECT_EQ(r.headers["user-agent"], "lastgood");
  EXPECT_EQ(r.headers["x-lastgood-event"], "failed");
  EXPECT_EQ(r.headers["x-lastgood-delivery"].size(), 36u);
  EXPECT_EQ(r.headers.count("x-lastgood-signature"), 0u);
  auto body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["event"], "failed");
  EXPECT_EQ(body["app"], "web");
  EXPECT_EQ(body["deployment"], "web-7");
  EXPECT_EQ(body["version"], 7);
  EXPECT_EQ(body["fromVersion"], 6);
  EXPECT_EQ(body["state"], "Failed");
  EXPECT_EQ(body["reason"], "analysis failed: error rate 5.1% > 1%");
  EXPECT_EQ(body["at"], 1'795'000'000'123);
  EXPECT_EQ(body["time"], "2026-11-18T11:06:40.123Z");
  NotifierStats s = WaitStats(notifier, [](auto& s) { return s.delivered == 1; });
  EXPECT_EQ(s.delivered, 1u);
  EXPECT_EQ(s.pending, 0u);
}

TEST(Notifier, RetriesAfterA500WithTheSameDeliveryIdThenDelivers) {
  Receiver receiver({500, 503});
  Notifier notifier(Fast());
  notifier.Send({Webhook{receiver.Url(), {}, ""}}, Event("started"));
  auto got = receiver.WaitFor(3);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].headers["x-lastgood-delivery"], got[2].headers["x-lastgood-delivery"]);
  EXPECT_EQ(got[0].body, got[2].body);
  NotifierStats s = WaitStats(notifier, [](auto& s) { return s.delivered == 1; });
  EXPECT_EQ(s.delivered, 1u);
  EXPECT_EQ(s.failed, 0u);
}

TEST(Notifier, GivesUpAtOnceAfterA400) {
  Receiver receiver({400});
  Notifier notifier(Fast());
  notifier.Send({Webhook{receiver.Url(), {}, ""}}, Event("succeeded"));
  NotifierStats s = WaitStats(notifier, [](auto& s) { return s.failed == 1; });
  EXPECT_EQ(s.failed, 1u);
  EXPECT_EQ(s.pending, 0u);
  EXPECT_EQ(receiver.WaitFor(2, Millis(300)).size(), 1u) << "a 400 must not be retried";
}

TEST(Notifier, GivesUpAfterMaxAttemptsWhenNobodyListens) {
  int port;
  {
    Receiver closed;  // a port that was just free
    port = std::stoi(closed.Url().substr(17));
  }
  NotifierOptions o = Fast();
  o.maxAttempts = 3;
  std::vector<std::string> lines;
  std::mutex mu;
  o.log = [&](const std::string& line) {
    std::lock_guard lock(mu);
    lines.push_back(line);
  };
  Notifier notifier(o);
  notifier.Send({Webhook{"http://127.0.0.1:" + std::to_string(port) + "/secret-token", {}, ""}},
                Event("failed"));
  NotifierStats s = WaitStats(notifier, [](auto& s) { return s.failed == 1; });
  EXPECT_EQ(s.failed, 1u);
  std::lock_guard lock(mu);
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines.back().find("after 3 attempts"), std::string::npos) << lines.back();
  EXPECT_EQ(lines.back().find("secret-token"), std::string::npos) << "paths may hold tokens";
}

TEST(Notifier, SendReturnsAtOnceAndStopIsBoundedWhenTheReceiverHangs) {
  Receiver receiver({}, /*hang=*/true);
  auto made = steady_clock::now();
  {
    NotifierOptions o = Fast();
    o.attemptTimeout = Millis(30'000);
    Notifier notifier(o);
    auto start = steady_clock::now();
    for (int i = 0; i < 50; ++i) {
      notifier.Send({Webhook{receiver.Url(), {}, ""}}, Event("started", i + 1));
    }
    EXPECT_LT(steady_clock::now() - start, Millis(100));
    ASSERT_EQ(receiver.WaitFor(1).size(), 1u);
    EXPECT_EQ(notifier.Stats().pending, 50u);
  }
  EXPECT_LT(steady_clock::now() - made, Millis(3000)) << "the destructor waited on a hung receiver";
}

TEST(Notifier, SignsTheBodyWithTheKeyFromTheNamedVariable) {
  setenv("LASTGOOD_WEBHOOK_TEST_KEY", "k3y-for-tests", 1);
  Receiver receiver;
  Notifier notifier(Fast());
  notifier.Send({Webhook{receiver.Url(), {}, "LASTGOOD_WEBHOOK_TEST_KEY"}}, Event("rolledBack"));
  auto got = receiver.WaitFor(1);
  unsetenv("LASTGOOD_WEBHOOK_TEST_KEY");
  ASSERT_EQ(got.size(), 1u);
  // What a receiver does: HMAC-SHA256 the raw body with the shared key and compare.
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  std::string key = "k3y-for-tests", body = got[0].body;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &len);
  char hex[2 * EVP_MAX_MD_SIZE + 1];
  for (unsigned int i = 0; i < len; ++i) snprintf(hex + 2 * i, 3, "%02x", mac[i]);
  EXPECT_EQ(got[0].headers["x-lastgood-signature"], "sha256=" + std::string(hex, 2 * len));
  EXPECT_EQ(body.find("k3y-for-tests"), std::string::npos);
}

// A version stored before secretEnv was held to LASTGOOD_WEBHOOK_ (issue 11 D) may name any
// of the controller's variables: it is not read, the delivery goes out unsigned.
TEST(Notifier, NeverSignsWithAVariableNotMeantForWebhooks) {
  setenv("AWS_SECRET_ACCESS_KEY", "not-for-webhooks", 1);
  Receiver receiver;
  Notifier notifier(Fast());
  notifier.Send({Webhook{receiver.Url(), {}, "AWS_SECRET_ACCESS_KEY"}}, Event("failed"));
  auto got = receiver.WaitFor(1);
  unsetenv("AWS_SECRET_ACCESS_KEY");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].headers.count("x-lastgood-signature"), 0u);
}

TEST(SignBody, MatchesTheRfc4231TestVector) {
  EXPECT_EQ(SignBody("Jefe", "what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(FinalEventFor, NamesTheEventOfEachFinalState) {
  EXPECT_EQ(FinalEventFor("Succeeded"), "succeeded");
  EXPECT_EQ(FinalEventFor("Failed"), "failed");
  EXPECT_EQ(FinalEventFor("RolledBack"), "rolledBack");
  EXPECT_EQ(FinalEventFor("Canceled"), "canceled");
  EXPECT_EQ(FinalEventFor("Running"), "");
}

TEST(EventBody, RendersAFirstDeploymentsFromVersionAsNull) {
  DeploymentEvent e;
  e.event = "started";
  e.version = 1;
  auto body = nlohmann::json::parse(EventBody(e));
  EXPECT_TRUE(body["fromVersion"].is_null());
  EXPECT_EQ(body["version"], 1);
  EXPECT_EQ(body["reason"], "");
}

TEST(Notifier, SendsOnlyTheEventsAWebhookAsksFor) {
  Receiver receiver;
  Notifier notifier(Fast());
  std::vector<Webhook> hooks = {Webhook{receiver.Url(), {"failed", "rolledBack"}, ""}};
  notifier.Send(hooks, Event("started"));
  notifier.Send(hooks, Event("failed"));
  auto got = receiver.WaitFor(2, Millis(500));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].headers["x-lastgood-event"], "failed");
}

TEST(Notifier, KeepsTheOrderOfEventsForOneWebhookAcrossRetries) {
  Receiver receiver({500, 200, 500});
  Notifier notifier(Fast());
  for (int v = 1; v <= 4; ++v)
    notifier.Send({Webhook{receiver.Url(), {}, ""}}, Event("started", v));
  auto got = receiver.WaitFor(6);
  ASSERT_EQ(got.size(), 6u);
  std::vector<int> versions;
  for (const auto& r : got) {
    int v = nlohmann::json::parse(r.body)["version"];
    if (versions.empty() || versions.back() != v) versions.push_back(v);
  }
  EXPECT_EQ(versions, (std::vector<int>{1, 2, 3, 4}));
}

TEST(Notifier, DropsTheOldestWaitingDeliveryWhenTheQueueIsFull) {
  Receiver receiver({}, /*hang=*/true);
  NotifierOptions o = Fast();
  o.queueLimit = 2;
  o.attemptTimeout = Millis(30'000);
  Notifier notifier(o);
  for (int v = 1; v <= 5; ++v)
    notifier.Send({Webhook{receiver.Url(), {}, ""}}, Event("started", v));
  NotifierStats s = WaitStats(notifier, [](auto& s) { return s.dropped == 3; });
  EXPECT_EQ(s.dropped, 3u);
  EXPECT_EQ(s.pending, 2u);
}

}  // namespace
}  // namespace lastgood
