// End-to-end: deploying versions (issue 2, items 1-3 and 5): rolling and recreate updates,
// no-op applies, what-if, and the read verbs (history, deployment, versions, show, diff,
// status, apps) with their -o json shapes (DESIGN.md section 5). Real controller, real
// sample instances, temporary home (tests/testutil/lastgood.h).
#include <gtest/gtest.h>

#include <set>

#include "testutil/lastgood.h"

namespace {

using lastgood::testutil::Lastgood;
using lastgood::testutil::SampleApp;
using nlohmann::json;

bool IsTimestamp(const json& j) { return j.is_string() && j.get<std::string>().size() >= 19; }

TEST(Deploy, RollingUpdateReplacesEveryInstanceWithTheNewVersion) {
  Lastgood lg;
  lg.Given().App(SampleApp().Replicas(2)).Applied().Then().Serves("v1", 2);
  auto old_instances = lg.Instances();

  lg.When().Apply({"--param", "label=v2"});

  lg.Then().ExitCode(0).OutputHas("Succeeded").Serves("v2", 2);
  for (const auto& i : lg.Instances()) EXPECT_EQ(i.version, 2);
  for (const auto& old : old_instances) {
    EXPECT_EQ(lg.Label(old.port), "") << "old instance " << old.id << " still answers";
    EXPECT_EQ(lg.InstancePids().count(old.pid), 0u) << "old instance " << old.id << " still runs";
  }
  EXPECT_EQ(lg.InstancePids().size(), 2u);
  auto history = lg.History();
  ASSERT_EQ(history.size(), 2u) << history.dump(2);
  EXPECT_EQ(history[0]["version"], 2);
  EXPECT_EQ(history[1]["version"], 1);
  EXPECT_EQ(history[0]["state"], "Succeeded");
  EXPECT_EQ(history[0]["strategy"], "rolling");
  lg.Then().VersionCount(2).Verdict(1, "good").Verdict(2, "good");
}

TEST(Deploy, ApplyPrintsOneLinePerStep) {
  Lastgood lg;
  lg.Given().App(SampleApp().Bake("100ms")).Applied();
  lg.When().Apply({"--param", "label=v2"});
  lg.Then().ExitCode(0);
  auto record = lg.Deployment(lg.History()[0]["name"].get<std::string>());
  ASSERT_GE(record["operations"].size(), 4u) << record.dump(2);  // prepare, start, stop, bake, …
  for (const auto& op : record["operations"]) {
    lg.Then().OutputHas(op["step"].get<std::string>() + ": Succeeded");
  }
}

TEST(Deploy, RecreateStopsTheOldInstancesBeforeStartingTheNewOnes) {
  Lastgood lg;
  lg.Given().App(SampleApp().Strategy("recreate").Replicas(2)).Applied().Then().Serves("v1", 2);

  lg.When().Apply({"--param", "label=v2"});

  lg.Then().ExitCode(0).Serves("v2", 2);
  auto history = lg.History();
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0]["strategy"], "recreate");
  auto ops = lg.Deployment(history[0]["name"])["operations"];
  int stop = -1, start = -1;
  for (int i = 0; i < static_cast<int>(ops.size()); ++i) {
    std::string step = ops[i]["step"];
    if (step.find("stop") != std::string::npos && stop < 0) stop = i;
    if (step.find("ready instance") != std::string::npos && start < 0) start = i;
  }
  EXPECT_GE(stop, 0) << ops.dump(2);
  EXPECT_GT(start, stop) << "recreate must stop before it starts:\n" << ops.dump(2);
}

TEST(Deploy, ApplyingTheRunningContentAgainIsANoOpThatSaysSo) {
  Lastgood lg;
  lg.Given().App(SampleApp()).Applied({"--param", "label=v2"});
  auto pids = lg.InstancePids();

  lg.When().Apply({"--param", "label=v2"});

  lg.Then().ExitCode(0).OutputHas("nothing to do").VersionCount(1).HistorySize(1).Serves("v2");
  EXPECT_EQ(lg.InstancePids(), pids);
}

TEST(Deploy, WhatIfPrintsThePlanAndTheDiffAndChangesNothing) {
  Lastgood lg;
  lg.Given().App(SampleApp()).Applied();

  lg.When().Apply({"--param", "label=v2", "--what-if"});

  lg.Then().ExitCode(0).OutputHas("what-if").OutputHas("plan:").OutputHas("v2");
  lg.Then().OutputHas("-").OutputHas("+");
  EXPECT_NE(lg.last().out.find("v1"), std::string::npos) << lg.last().out;  // diff's old side
  lg.Then().VersionCount(1).HistorySize(1).Serves("v1");
}

TEST(Deploy, WhatIfJsonHasThePlanAndAUnifiedDiff) {
  Lastgood lg;
  lg.Given().App(SampleApp()).Applied();
  lg.When().Apply({"--param", "label=v2", "--what-if", "-o", "json"});
  lg.Then().ExitCode(0);
  auto o = lg.last().Json();
  ASSERT_TRUE(o.is_object()) << lg.last().out;
  EXPECT_EQ(o["whatIf"], true);
  EXPECT_FALSE(o["plan"].empty());
  std::string diff = o["diff"];
  EXPECT_NE(diff.find("\n@@"), std::string::npos) << diff;
  EXPECT_NE(diff.find("\n-"), std::string::npos) << diff;
  EXPECT_NE(diff.find("\n+"), std::string::npos) << diff;
  lg.Then().VersionCount(1);
}

TEST(Deploy, HistoryJsonHasTheDesignFieldsNewestFirst) {
  Lastgood lg;
  lg.Given().App(SampleApp()).Applied().Applied({"--param", "label=v2"});

  auto history = lg.History();

  ASSERT_EQ(history.size(), 2u) << history.dump(2);
  for (const auto& d : history) {
    for (const char* f :
         {"name", "slot", "kind", "strategy", "trigger", "actor", "state", "reason"})
      EXPECT_TRUE(d[f].is_string()) << f << " in " << d.dump(2);
    EXPECT_TRUE(d["version"].is_number_integer()) << d.dump(2);
    EXPECT_TRUE(IsTimestamp(d["startedAt"])) << d.dump(2);
    EXPECT_TRUE(IsTimestamp(d["finishedAt"])) << d.dump(2);
    EXPECT_EQ(d["slot"], "production");
    EXPECT_EQ(d["kind"], "deploy");
    EXPECT_EQ(d["trigger"], "user");
    EXPECT_EQ(d["state"], "Succeeded");
  }
  EXPECT_EQ(history[0]["version"], 2);
  EXPECT_EQ(history[1]["version"], 1);
  EXPECT_GE(history[0]["startedAt"].get<std::string>(),
            history[1]["finishedAt"].get<std::string>());
}

TEST(Deploy, DeploymentJsonHasItsOperationsWithTheirTimes) {
  Lastgood lg;
  lg.Given().App(SampleApp().Bake("100ms")).Applied({"--name", "first"});

  auto d = lg.Deployment("first");

  ASSERT_TRUE(d.is_object()) << d.dump(2);
  EXPECT_EQ(d["name"], "first");
  EXPECT_EQ(d["state"], "Succeeded");
  ASSERT_TRUE(d["operations"].is_array() && !d["operations"].empty()) << d.dump(2);
  for (const auto& op : d["operations"]) {
    EXPECT_TRUE(op["step"].is_string()) << op.dump(2);
    EXPECT_EQ(op["state"], "Succeeded") << op.dump(2);
    EXPECT_TRUE(IsTimestamp(op["startedAt"])) << op.dump(2);
    EXPECT_TRUE(IsTimestamp(op["finishedAt"])) << op.dump(2);
    EXPECT_TRUE(op["detail"].is_string()) << op.dump(2);
    EXPECT_LE(op["startedAt"].get<std::string>(), op["finishedAt"].get<std::string>());
  }
  lg.When().Run({"deployment", "web", "no-such-deployment"}).Then().ExitCode(4);
}

TEST(Deploy, VersionsJsonListsEveryVersionOldestFirst) {
  Lastgood lg;
  lg.Given().App(SampleApp()).Applied().Applied({"--param", "label=v2"});

  auto versions = lg.Versions();

  ASSERT_EQ(versions.size(), 2u) << versions.dump(2);
  for (int i = 0; i < 2; ++i) {
    const auto& v = versions[i];
    EXPECT_EQ(v["version"], i + 1);
    EXPECT_TRUE(v["digest"].is_string() && !v["digest"].get<std::string>().empty()) << v.dump(2);
    EXPECT_TRUE(IsTimestamp(v["createdAt"])) << v.dump(2);
    EXPECT_TRUE(v["promotedFrom"].is_null()) << v.dump(2);
    EXPECT_EQ(v["verdict"], "good");
  }
  EXPECT_EQ(versions[0]["digest"], versions[1]["digest"]) << "same artifact, same digest";
}

TEST(Deploy, ShowPrintsTheVersionsManifestWithParametersResolved) {
  Lastgood lg;
  lg.Given().App(SampleApp()).Applied({"--param", "label=blue"});

  lg.When().Run({"show", "web", "1"});

  lg.Then().ExitCode(0).OutputHas("app: ").OutputHas("web").OutputHas("blue");
  EXPECT_EQ(lg.last().out.find("${params.label}"), std::string::npos) << lg.last().out;
  lg.When().Run({"show", "web", "7"}).Then().ExitCode(4);
}

TEST(Deploy, DiffPrintsAUnifiedDiffOfTwoVersions) {
  Lastgood lg;
  lg.Given()
      .App(SampleApp())
      .Applied({"--param", "label=blue"})
      .Applied({"--param", "label=green"});

  lg.When().Run({"diff", "web", "1", "2"});

  lg.Then().ExitCode(0).OutputHas("---").OutputHas("+++").OutputHas("@@");
  const std::string& out = lg.last().out;
  EXPECT_NE(out.find("\n-"), std::string::npos) << out;
  EXPECT_NE(out.find("blue"), std::string::npos) << out;
  EXPECT_NE(out.find("\n+"), std::string::npos) << out;
  EXPECT_NE(out.find("green"), std::string::npos) << out;
}

TEST(Deploy, StatusJsonHasSlotsInstancesDeploymentAndLastGood) {
  Lastgood lg;
  lg.Given().App(SampleApp().Replicas(2)).Applied().Applied({"--param", "label=v2"});

  auto s = lg.Status();

  ASSERT_TRUE(s.is_object()) << s.dump(2);
  EXPECT_EQ(s["app"], "web");
  EXPECT_TRUE(s["deployment"].is_null()) << s.dump(2);
  EXPECT_EQ(s["lastGood"], 1) << "last good is the succeeded version other than the running one";
  const auto& prod = s["slots"]["production"];
  EXPECT_EQ(prod["version"], 2);
  EXPECT_TRUE(prod["weight"].is_number()) << s.dump(2);
  ASSERT_EQ(prod["instances"].size(), 2u) << s.dump(2);
  std::set<std::string> ids;
  for (const auto& i : prod["instances"]) {
    EXPECT_TRUE(i["id"].is_string()) << i.dump(2);
    ids.insert(i["id"].get<std::string>());
    EXPECT_EQ(i["version"], 2);
    EXPECT_EQ(i["state"], "ready");
    std::string address = i["address"];
    EXPECT_EQ(address.rfind("127.0.0.1:", 0), 0u) << address;
  }
  EXPECT_EQ(ids.size(), 2u);
}

TEST(Deploy, AppsListsEveryAppWithWhatProductionRuns) {
  Lastgood lg;
  lg.Given().App(SampleApp()).Applied();
  lg.Given().App(SampleApp().App("api").Label("a1"), "api").Applied();

  lg.When().Run({"apps"});

  lg.Then().ExitCode(0).OutputHas("web").OutputHas("api");
  auto apps = lg.Json({"apps"});
  ASSERT_EQ(apps.size(), 2u) << apps.dump(2);
  lg.Then().Serves("a1", 1, "api").Serves("v1", 1, "web");
}

TEST(Deploy, EnvironmentOfTheManifestReachesTheInstances) {
  Lastgood lg;
  lg.Given().App(SampleApp()).Applied({"--param", "label=v7"});
  auto instances = lg.Instances();
  ASSERT_EQ(instances.size(), 1u);
  auto r = lastgood::testutil::HttpGet("127.0.0.1", instances[0].port, "/env/GREETING");
  EXPECT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.body.substr(0, r.body.find('\n')), "hello v7");
}

}  // namespace
