// Fleet helpers for the engine's unit tests on an EngineWorld (tests/testutil/engine_world.h):
// the hosts a test registers, a fleet deployment waited for, and what each fake host routes
// and runs — the questions every fleet test asks of its world.
//
//   ThreeHosts(w);
//   Deploy(w, manifest, "v2");
//   EXPECT_EQ(RoutedOn(w, "h2"), std::set<int>{2});
//   EXPECT_EQ(LiveOn(w, "h2"), (std::map<int, int>{{2, 2}}));
//
// Thread-safety: driven by the test's thread, as the world is.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "testutil/engine_world.h"

namespace lastgood::testutil {

// Three hosts h1..h3, labelled role=web.
inline void ThreeHosts(EngineWorld& w) {
  for (const char* h : {"h1", "h2", "h3"}) w.AddHost(h, {{"role", "web"}});
}

// Applies `manifest` with parameter label=`label` and waits until its deployment settles,
// expecting `want`; its name ("" when the apply was refused).
inline std::string Deploy(EngineWorld& w, const std::string& manifest, const std::string& label,
                          DeploymentState want = DeploymentState::kSucceeded) {
  auto o = w.Apply(manifest, label);
  EXPECT_TRUE(o.ok()) << o.error().message;
  if (!o.ok()) return "";
  Deployment d = w.WaitSettled(o->deployment);
  EXPECT_EQ(d.state, want) << d.reason;
  return o->deployment;
}

// `label` of `manifest` deployed into staging, beside production, expected to succeed.
inline void Stage(EngineWorld& w, const std::string& manifest, const std::string& label) {
  auto o = w.Apply(manifest, label, "staging");
  EXPECT_TRUE(o.ok()) << o.error().message;
  if (!o.ok()) return;
  Deployment d = w.WaitSettled(o->deployment);
  EXPECT_EQ(d.state, DeploymentState::kSucceeded) << d.reason;
}

// A swap of web's staging into production (SwapRequest's defaults), in `phase` ("swap",
// "preview", "complete", "cancel"), as a test asks it.
inline SwapRequest SwapOf(const std::string& phase = "swap") {
  SwapRequest swap;
  swap.app = "web";
  swap.phase = phase;
  swap.actor = "test";
  return swap;
}

// Versions each host's router sends production's requests to now.
inline std::set<int> RoutedOn(EngineWorld& w, const std::string& host) {
  std::set<int> out;
  auto table = w.hosts().router(host).Table();
  if (!table) return out;
  for (const auto& app : table->apps) {
    for (const auto& s : app.slots) {
      if (s.name != "production") continue;
      for (const auto& v : s.versions) {
        if (v.weight > 0 && !v.backends.empty()) out.insert(v.version);
      }
    }
  }
  return out;
}

// Live instances of app web on record on `host`, by version (warm and draining ones aside).
inline std::map<int, int> LiveOn(EngineWorld& w, const std::string& host) {
  std::map<int, int> out;
  auto all = w.sqlite().ListInstances("web");
  if (!all.ok()) return out;
  for (const auto& i : *all) {
    if (i.host == host && i.state != InstanceState::kDraining && i.state != InstanceState::kWarm)
      ++out[i.version];
  }
  return out;
}

}  // namespace lastgood::testutil
