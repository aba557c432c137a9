#include "node/node_state.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace lastgood {
namespace {

std::string TempPath(const char* name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("lastgood-node-state-" + std::to_string(::getpid()) + "-" + name);
  std::filesystem::create_directories(dir);
  return (dir / "node-state.json").string();
}

TEST(NodeState, WhatIsSavedIsWhatARestartedNodeLoads) {
  std::string path = TempPath("roundtrip");
  NodeState state(path);
  InstanceSpec spec;
  spec.id = "web-production-1-a";
  spec.argv = {"./web"};
  spec.cwd = "/r/web/1";
  spec.port = 10001;
  state.Put({spec, {"web-production-1-a", 4242, 777, 10001}});
  ASSERT_TRUE(state.Save().ok());
  NodeState again(path);
  ASSERT_TRUE(again.Load().ok());
  ASSERT_EQ(again.instances().size(), 1u);
  const auto& rec = again.instances().at("web-production-1-a");
  EXPECT_EQ(rec.handle.pid, 4242);
  EXPECT_EQ(rec.handle.startTime, 777u);
  EXPECT_EQ(rec.spec.port, 10001);
  again.Remove("web-production-1-a");
  ASSERT_TRUE(again.Save().ok());
  NodeState empty(path);
  ASSERT_TRUE(empty.Load().ok());
  EXPECT_TRUE(empty.instances().empty());
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp")) << "the temporary file was left";
}

TEST(NodeState, AMissingFileIsAnEmptyStateAndAGarbledOneIsRefused) {
  std::string path = TempPath("garbled");
  std::filesystem::remove(path);
  NodeState none(path);
  EXPECT_TRUE(none.Load().ok());
  { std::ofstream(path) << "{\"instances\": [ {\"spec\": "; }
  NodeState garbled(path);
  auto s = garbled.Load();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("not a node state file"), std::string::npos);
}

}  // namespace
}  // namespace lastgood
