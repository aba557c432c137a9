// Issue 4 item 6 and autoSwap end to end: the four hooks run at their moments with their
// environment, every deployment event reaches a webhook (an automatic rollback sends its
// own), and a slot with autoSwap is swapped into production after a deployment to it.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "testutil/http.h"
#include "testutil/lastgood.h"
#include "testutil/webhook_receiver.h"

namespace lastgood::testutil {
namespace {

using namespace std::chrono_literals;

// A hook that appends "NAME APP VERSION SLOT DEPLOYMENT" to `log`. The shell is the hook's
// own program here (argv: sh -c SCRIPT NAME), as an app's script would be.
std::string Hook(const std::string& name, const std::string& log) {
  return "  " + name + ": { command: [\"/bin/sh\", \"-c\", \"echo \\\"$0 $LASTGOOD_APP " +
         "$LASTGOOD_VERSION $LASTGOOD_SLOT $LASTGOOD_DEPLOYMENT\\\" >> " + log + "\", \"" + name +
         "\"], timeout: 5s }";
}

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(Hooks, EachHookRunsAtItsMomentWithItsEnvironmentAndEveryEventReachesTheWebhook) {
  Receiver receiver;
  Lastgood lg;
  // In the app's state folder: the one place of the home its hooks may write.
  const std::string log = lg.home() + "/state/web/hooks.log";
  auto app = SampleApp()
                 .Extra("hooks:\n" + Hook("preDeploy", log) + "\n" + Hook("postDeploy", log) +
                        "\n" + Hook("preRollback", log) + "\n" + Hook("postRollback", log))
                 .Extra("notifications:\n  webhooks:\n    - url: " + receiver.Url());
  lg.Given().App(app).Applied();
  lg.When().Apply({"--param", "label=v2", "--param", "crashOnStart=true"}).Then().ExitCode(1);
  lg.WaitForIdle();

  auto h = lg.History();
  ASSERT_EQ(h.size(), 3u) << h.dump(2);
  const std::string first = h[2]["name"], bad = h[1]["name"], rollback = h[0]["name"];
  ASSERT_EQ(h[0].value("kind", ""), "rollback") << h.dump(2);
  ASSERT_EQ(h[0].value("trigger", ""), "auto") << h.dump(2);

  // v2 crashed before it was ready: no postDeploy for it. The rollback brings v1 back and runs
  // v1's rollback hooks around it.
  EXPECT_EQ(Lines(log), (std::vector<std::string>{
                            "preDeploy web 1 production " + first,
                            "postDeploy web 1 production " + first,
                            "preDeploy web 2 production " + bad,
                            "preRollback web 1 production " + rollback,
                            "postRollback web 1 production " + rollback,
                        }));

  // Each deployment sends `started` and its end; the order between deployments is not fixed
  // (deliveries are asynchronous), the set is.
  auto got = receiver.WaitFor(6);
  std::set<std::string> events;
  for (const auto& r : got) {
    auto body = nlohmann::json::parse(r.body, nullptr, false);
    ASSERT_TRUE(body.is_object()) << r.body;
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.headers.at("x-lastgood-event"), body.value("event", "")) << r.body;
    EXPECT_EQ(body.value("app", ""), "web") << r.body;
    events.insert(body.value("deployment", "") + " " + body.value("event", ""));
    if (body.value("deployment", "") == bad && body.value("event", "") == "failed") {
      EXPECT_EQ(body.value("version", 0), 2) << r.body;
      EXPECT_EQ(body.value("fromVersion", 0), 1) << r.body;
      EXPECT_NE(body.value("reason", "").find("exited"), std::string::npos) << r.body;
    }
    if (body.value("deployment", "") == rollback) {
      EXPECT_EQ(body.value("kind", ""), "rollback") << r.body;
      EXPECT_EQ(body.value("trigger", ""), "auto") << r.body;
    }
  }
  EXPECT_EQ(events, (std::set<std::string>{first + " started", first + " succeeded",
                                           bad + " started", bad + " failed", rollback + " started",
                                           rollback + " succeeded"}));
  EXPECT_EQ(got.size(), 6u) << "a deployment event was delivered twice";
}

TEST(AutoSwap, ASuccessfulDeploymentToAnAutoSwapSlotIsSwappedIntoProductionByItself) {
  const int port = FreePort(), preview = FreePort();
  Lastgood lg;
  auto app = SampleApp()
                 .Extra("route:\n  listen: 127.0.0.1:" + std::to_string(port) +
                        "\n  preview: 127.0.0.1:" + std::to_string(preview))
                 .Extra("slots:\n  staging: { autoSwap: true }");
  lg.Given().App(app).Applied();
  lg.When().Apply({"--param", "label=v2", "--slot", "staging"}).Then().ExitCode(0);
  lg.WaitForIdle();

  EXPECT_EQ(Lastgood::Label(port), "v2");
  EXPECT_EQ(Lastgood::Label(preview), "v1")
      << "the swap leaves production's old version in staging";
  auto h = lg.History();
  ASSERT_EQ(h.size(), 3u) << h.dump(2);
  EXPECT_EQ(h[0].value("kind", ""), "swap") << h.dump(2);
  EXPECT_EQ(h[0].value("trigger", ""), "auto") << h.dump(2);
  EXPECT_EQ(h[0].value("state", ""), "Succeeded") << h.dump(2);
  EXPECT_NE(h[0].value("reason", "").find("autoSwap after " + h[1].value("name", "")),
            std::string::npos)
      << h.dump(2);
  auto s = lg.Status();
  EXPECT_EQ(s["slots"]["production"]["version"], 2) << s.dump(2);
  EXPECT_EQ(s["slots"]["staging"]["version"], 1) << s.dump(2);

  // A slot without autoSwap keeps what was deployed to it.
  lg.Manifest(SampleApp()
                  .Extra("route:\n  listen: 127.0.0.1:" + std::to_string(port) +
                         "\n  preview: 127.0.0.1:" + std::to_string(preview))
                  .Yaml());
  lg.When().Apply({"--param", "label=v3", "--slot", "staging"}).Then().ExitCode(0);
  lg.WaitForIdle();
  EXPECT_EQ(Lastgood::Label(port), "v2");
  EXPECT_EQ(Lastgood::Label(preview), "v3");
}

}  // namespace
}  // namespace lastgood::testutil
