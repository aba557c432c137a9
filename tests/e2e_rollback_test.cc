// End-to-end: rollback, rollforward and promote (issue 2, items 5-6; DESIGN.md sections 2
// and 4): last good rather than previous, --to with and without --force, refusals that say
// what is wrong and change nothing, no-ops, what-if, preemption of a running deployment, and
// the conflict of a second apply. Real controller and instances (tests/testutil/lastgood.h).
#include <gtest/gtest.h>

#include "testutil/lastgood.h"

namespace {

using lastgood::testutil::Lastgood;
using lastgood::testutil::SampleApp;
using nlohmann::json;

// v1 good, v2 bad (crashed at start, rolled back to v1 automatically), v3 good and running.
void GoodBadGood(Lastgood& lg) {
  lg.Given().App(SampleApp()).Applied();
  lg.Given().Apply({"--param", "label=v2", "--param", "crashOnStart=true"}).ExitCode(1);
  lg.Given().Applied({"--param", "label=v3"}).Verdict(2, "bad").Serves("v3");
}

TEST(Rollback, GoesToTheLastGoodVersionNotMerelyThePreviousOne) {
  Lastgood lg;
  GoodBadGood(lg);
  size_t deployments = lg.History().size();

  lg.When().Run({"rollback", "web"});

  lg.Then().ExitCode(0).Serves("v1").VersionCount(3).HistorySize(deployments + 1);
  auto h = lg.History();
  EXPECT_EQ(h[0]["kind"], "rollback");
  EXPECT_EQ(h[0]["trigger"], "user");
  EXPECT_EQ(h[0]["version"], 1);
  EXPECT_EQ(h[0]["state"], "Succeeded");
  lg.Then().Verdict(3, "good");  // a manual rollback leaves the verdict as it was
  // A version is the whole release: the rollback restores v1's environment too.
  auto instances = lg.Instances();
  ASSERT_EQ(instances.size(), 1u);
  auto env = lastgood::testutil::HttpGet("127.0.0.1", instances[0].port, "/env/GREETING");
  EXPECT_EQ(env.body.substr(0, env.body.find('\n')), "hello v1") << env.error;
}

TEST(Rollback, WhoseArtifactIsGoneIsRefusedBeforeAnythingStops) {
  Lastgood lg;
  lg.Given().App(SampleApp()).Applied().Applied({"--param", "label=v2"});
  auto pids = lg.InstancePids();
  std::filesystem::remove_all(lg.home() + "/artifacts");
  std::filesystem::create_directories(lg.home() + "/artifacts");
  std::filesystem::remove_all(lg.home() + "/releases/web/1");

  lg.When().Run({"rollback", "web"});

  EXPECT_NE(lg.last().code, 0) << lg.last().out << lg.last().err;
  EXPECT_NE(lg.last().code, 1) << "refused up front, not a deployment that failed:\n"
                               << lg.last().out << lg.last().err;
  lg.Then().StderrHas("artifact").HistorySize(2).Serves("v2");
  EXPECT_EQ(lg.InstancePids(), pids);
}

TEST(Rollback, ToABadVersionIsRefusedWithoutForceAndChangesNothing) {
  Lastgood lg;
  GoodBadGood(lg);
  size_t deployments = lg.History().size();

  lg.When().Run({"rollback", "web", "--to", "2", "-o", "json"});

  lg.Then().ExitCode(3).Error("conflict").StderrHas("is bad").StderrHas("--force");
  lg.Then().HistorySize(deployments).VersionCount(3).Serves("v3");
}

TEST(Rollback, ToABadVersionIsAllowedWithForce) {
  Lastgood lg;
  // v2 is bad because its readiness (a flag file) failed; once the flag is gone it can run.
  // The flag is in the app's state folder: the one place of the home its probe can see.
  std::string flag = lg.home() + "/state/web/broken";
  lg.Given().App(SampleApp()).Applied();
  std::ofstream(flag) << "x";
  lg.Given().App(SampleApp().ProgressDeadline("1s").Readiness(
      "{ exec: [\"/usr/bin/test\", \"!\", \"-e\", \"" + flag +
      "\"], interval: 100ms, timeout: 1s, failureThreshold: 1 }"));
  lg.Given().Apply({"--param", "label=v2"}).ExitCode(1).Verdict(2, "bad").Serves("v1");
  std::filesystem::remove(flag);

  lg.When().Run({"rollback", "web", "--to", "2", "--force"});

  lg.Then().ExitCode(0).Serves("v2");
  auto h = lg.History();
  EXPECT_EQ(h[0]["kind"], "rollback");
  EXPECT_EQ(h[0]["version"], 2);
  EXPECT_EQ(h[0]["state"], "Succeeded");
}

TEST(Rollback, ToAVersionThatDoesNotExistIsNotFound) {
  Lastgood lg;
  lg.Given().App(SampleApp()).Applied().Applied({"--param", "label=v2"});

  lg.When().Run({"rollback", "web", "--to", "9", "-o", "json"});

  lg.Then().ExitCode(4).Error("not_found").StderrHas("does not exist");
  lg.Then().HistorySize(2).Serves("v2");
}

TEST(Rollback, WithNoOtherGoodVersionSaysNothingToRollBackTo) {
  Lastgood lg;
  lg.Given().App(SampleApp()).Applied();

  lg.When().Run({"rollback", "web", "-o", "json"});

  lg.Then().ExitCode(2).Error("invalid_input").StderrHas("nothing to roll back to");
  lg.Then().HistorySize(1).Serves("v1");
}

TEST(Rollback, OfAnAppThatDoesNotExistIsNotFound) {
  Lastgood lg;
  lg.Given().When().Run({"rollback", "nosuchapp", "-o", "json"});
  lg.Then().ExitCode(4).Error("not_found");
}

TEST(Rollback, ToTheRunningVersionIsANoOpThatSaysSo) {
  Lastgood lg;
  lg.Given().App(SampleApp()).Applied().Applied({"--param", "label=v2"});
  auto pids = lg.InstancePids();

  lg.When().Run({"rollback", "web", "--to", "2"});

  lg.Then().ExitCode(0).OutputHas("already").HistorySize(2).Serves("v2");
  EXPECT_EQ(lg.InstancePids(), pids);
}

TEST(Rollback, WhatIfPrintsThePlanAndChangesNothing) {
  Lastgood lg;
  lg.Given().App(SampleApp()).Applied().Applied({"--param", "label=v2"});

  lg.When().Run({"rollback", "web", "--what-if"});

  lg.Then().ExitCode(0).OutputHas("what-if").OutputHas("v1").HistorySize(2).VersionCount(2);
  lg.Then().Serves("v2");
}

TEST(Rollback, PreemptsARunningDeploymentWhichEndsCanceled) {
  Lastgood lg;
  lg.Given().App(SampleApp()).Applied();
  lg.Given().App(SampleApp().Bake("30s"));
  lg.Given().Apply({"--param", "label=v2", "--no-wait"}).ExitCode(0).WaitForStep("bake");

  lg.When().Run({"rollback", "web"});

  lg.Then().ExitCode(0).Serves("v1", 1);
  auto h = lg.History();
  ASSERT_EQ(h.size(), 3u) << h.dump(2);
  EXPECT_EQ(h[0]["kind"], "rollback");
  EXPECT_EQ(h[0]["version"], 1);
  EXPECT_EQ(h[0]["state"], "Succeeded");
  EXPECT_EQ(h[1]["version"], 2);
  EXPECT_EQ(h[1]["state"], "Canceled") << h.dump(2);
  EXPECT_NE(h[1]["reason"].get<std::string>().find("canceled by a rollback"), std::string::npos)
      << h.dump(2);
  EXPECT_TRUE(lg.Status()["deployment"].is_null());
  lg.Then().Verdict(2, "untested");  // a manual rollback is not the release's fault
  EXPECT_EQ(lg.InstancePids().size(), 1u) << "v2's instance was stopped";
}

TEST(Rollback, PreemptsADeploymentStillStartingItsInstances) {
  Lastgood lg;
  lg.Given().App(SampleApp()).Applied();
  lg.Given().App(SampleApp().StartupMs(5000));
  lg.Given().Apply({"--param", "label=v2", "--no-wait"}).ExitCode(0).WaitForStep("ready instance");

  lg.When().Run({"rollback", "web"});

  lg.Then().ExitCode(0).Serves("v1", 1);
  auto h = lg.History();
  ASSERT_EQ(h.size(), 3u) << h.dump(2);
  EXPECT_EQ(h[1]["state"], "Canceled") << h.dump(2);
  EXPECT_EQ(h[0]["state"], "Succeeded") << h.dump(2);
  EXPECT_EQ(lg.InstancePids().size(), 1u) << "the starting v2 instance was stopped";
}

TEST(Apply, WhileAnotherDeploymentRunsIsAConflict) {
  Lastgood lg;
  lg.Given().App(SampleApp()).Applied();
  lg.Given().App(SampleApp().Bake("30s"));
  lg.Given().Apply({"--param", "label=v2", "--no-wait"}).ExitCode(0).WaitForStep("bake");

  lg.When().Apply({"--param", "label=v3", "-o", "json"});

  lg.Then().ExitCode(3).Error("conflict").StderrHas("running").VersionCount(2);
  auto running = lg.Status()["deployment"];
  ASSERT_TRUE(running.is_object()) << lg.Status().dump(2);
  EXPECT_EQ(running["state"], "Running");
  EXPECT_EQ(running["name"], lg.History()[0]["name"]);
  EXPECT_NE(running["step"].get<std::string>().find("bake"), std::string::npos) << running.dump();
}

TEST(Rollforward, AfterARollbackGoesToTheNewestVersionThatIsNotBad) {
  Lastgood lg;
  lg.Given().App(SampleApp()).Applied().Applied({"--param", "label=v2"});
  lg.Given().Apply({"--param", "label=v3", "--param", "crashOnStart=true"}).ExitCode(1);
  lg.Given().Run({"rollback", "web", "--to", "1"}).ExitCode(0).Serves("v1");

  lg.When().Run({"rollforward", "web"});

  lg.Then().ExitCode(0).Serves("v2");
  auto h = lg.History();
  EXPECT_EQ(h[0]["kind"], "rollforward");
  EXPECT_EQ(h[0]["version"], 2) << "v3 is bad, so the newest not bad is v2";
  EXPECT_EQ(h[0]["state"], "Succeeded");
}

TEST(Rollforward, ToAnOlderVersionIsRefused) {
  Lastgood lg;
  lg.Given().App(SampleApp()).Applied().Applied({"--param", "label=v2"});

  lg.When().Run({"rollforward", "web", "--to", "1", "-o", "json"});

  lg.Then().ExitCode(2).Error("invalid_input").StderrHas("not newer").HistorySize(2).Serves("v2");
}

TEST(Rollforward, WhatIfChangesNothing) {
  Lastgood lg;
  lg.Given().App(SampleApp()).Applied().Applied({"--param", "label=v2"});
  lg.Given().Run({"rollback", "web"}).ExitCode(0);

  lg.When().Run({"rollforward", "web", "--what-if"});

  lg.Then().ExitCode(0).OutputHas("what-if").HistorySize(3).Serves("v1");
}

TEST(Rollback, ToAnUntestedVersionIsRefusedWithoutForce) {
  Lastgood lg;
  lg.Given().App(SampleApp()).Applied();
  lg.Given().App(SampleApp().Bake("30s"));
  lg.Given().Apply({"--param", "label=v2", "--no-wait"}).ExitCode(0).WaitForStep("bake");
  lg.Given().Run({"rollback", "web"}).ExitCode(0).Verdict(2, "untested");

  lg.When().Run({"rollback", "web", "--to", "2", "-o", "json"});

  lg.Then().ExitCode(3).Error("conflict").StderrHas("untested").HistorySize(3).Serves("v1");
}

TEST(Rollforward, ToABadVersionIsRefusedWithoutForce) {
  Lastgood lg;
  lg.Given().App(SampleApp()).Applied();
  lg.Given().Apply({"--param", "label=v2", "--param", "crashOnStart=true"}).ExitCode(1);
  size_t deployments = lg.History().size();

  lg.When().Run({"rollforward", "web", "--to", "2", "-o", "json"});

  lg.Then().ExitCode(3).Error("conflict").StderrHas("is bad").HistorySize(deployments);
  lg.Then().Serves("v1");
}

TEST(Rollforward, WithNothingNewerSaysNothingToRollForwardTo) {
  Lastgood lg;
  lg.Given().App(SampleApp()).Applied().Applied({"--param", "label=v2"});

  lg.When().Run({"rollforward", "web", "-o", "json"});

  lg.Then().ExitCode(2).Error("invalid_input").StderrHas("nothing to roll forward to");
  lg.Then().HistorySize(2).Serves("v2");
}

TEST(Promote, AppendsANewVersionEqualToTheOldOneAndDeploysIt) {
  Lastgood lg;
  lg.Given().App(SampleApp()).Applied().Applied({"--param", "label=v2"});

  lg.When().Run({"promote", "web", "1"});

  lg.Then().ExitCode(0).Serves("v1").VersionCount(3);
  auto versions = lg.Versions();
  ASSERT_EQ(versions.size(), 3u);
  EXPECT_EQ(versions[2]["version"], 3);
  EXPECT_EQ(versions[2]["promotedFrom"], 1);
  EXPECT_EQ(versions[2]["digest"], versions[0]["digest"]);
  EXPECT_EQ(versions[2]["verdict"], "good");
  auto h = lg.History();
  EXPECT_EQ(h[0]["kind"], "promote");
  EXPECT_EQ(h[0]["version"], 3);
  lg.When().Run({"diff", "web", "1", "3"}).Then().ExitCode(0);
  EXPECT_EQ(lg.last().out.find("\n+"), std::string::npos) << "v3 equals v1:\n" << lg.last().out;
}

TEST(Promote, WhatIfChangesNothing) {
  Lastgood lg;
  lg.Given().App(SampleApp()).Applied().Applied({"--param", "label=v2"});

  lg.When().Run({"promote", "web", "1", "--what-if"});

  lg.Then().ExitCode(0).OutputHas("what-if").VersionCount(2).HistorySize(2).Serves("v2");
}

TEST(Promote, OfAVersionThatDoesNotExistIsNotFound) {
  Lastgood lg;
  lg.Given().App(SampleApp()).Applied();
  lg.When().Run({"promote", "web", "5", "-o", "json"});
  lg.Then().ExitCode(4).Error("not_found").VersionCount(1);
}

}  // namespace

namespace {

// The plan a started rollback reports is the plan it runs, each step once (it was once
// printed twice).
TEST(Rollback, NoWaitReportsThePlanItRunsEachStepOnce) {
  lastgood::testutil::Lastgood lg;
  lg.Given().App(lastgood::testutil::SampleApp()).Applied();
  lg.Given().Applied({"--param", "label=v2"});

  lg.When().Run({"rollback", "web", "--no-wait", "-o", "json"});
  lg.Then().ExitCode(0);
  auto outcome = lg.last().Json();
  ASSERT_TRUE(outcome.is_object()) << lg.last().out;
  lg.WaitForIdle();
  auto record = lg.Deployment(outcome["deployment"].get<std::string>());
  ASSERT_TRUE(record.is_object());
  ASSERT_EQ(outcome["plan"].size(), record["operations"].size()) << outcome.dump(2);
  for (size_t i = 0; i < outcome["plan"].size(); ++i)
    EXPECT_EQ(outcome["plan"][i], record["operations"][i]["step"]);
}

}  // namespace
