// End-to-end: the retention policy (issue 5 item 2). With `history: { keep: 10 }` the
// controller prunes the oldest ended deployment records once a deployment ends, but keeps
// the records of the version production runs and of the last good one, and every version:
// an old version whose records are gone can still be rolled back to.
#include <gtest/gtest.h>

#include <set>

#include "testutil/lastgood.h"

namespace {

using namespace std::chrono_literals;
using lastgood::testutil::Lastgood;
using lastgood::testutil::SampleApp;
using lastgood::testutil::WaitUntil;

std::set<std::string> Names(const nlohmann::json& history) {
  std::set<std::string> out;
  for (const auto& d : history) out.insert(d.value("name", ""));
  return out;
}

TEST(Retention, KeepsTheNewestRecordsTheRunningVersionAndEveryVersion) {
  Lastgood lg;
  lg.ServeArgs({"--ui", "off"});
  lg.Given().App(SampleApp().Extra("history: { keep: 10 }"));
  for (int i = 1; i <= 12; ++i) {
    lg.Applied({"--param", "label=v" + std::to_string(i), "--name", "d" + std::to_string(i)});
  }
  lg.When().Run({"rollback", "web"}).ExitCode(0);
  lg.Then().Serves("v11");

  // 13 ended records, keep 10: d1, d2 and d3 go within a few housekeeping ticks.
  bool pruned = WaitUntil([&] { return lg.History().size() == 10; }, 10s, 100ms);
  auto history = lg.History();
  ASSERT_TRUE(pruned) << history.dump(2);
  auto names = Names(history);
  for (const char* gone : {"d1", "d2", "d3"}) EXPECT_EQ(names.count(gone), 0u) << gone;
  for (const char* kept : {"d11", "d12"}) EXPECT_EQ(names.count(kept), 1u) << kept;
  EXPECT_EQ(history[0]["kind"], "rollback");
  lg.VersionCount(12);

  lg.When().Run({"rollback", "web", "--to", "1"}).ExitCode(0);
  lg.Then().Serves("v1");
}

}  // namespace
