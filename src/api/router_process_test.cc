#include "api/router_process.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "testutil/process.h"
#include "testutil/temp_dir.h"
#include "testutil/wait.h"

namespace lastgood {
namespace {

// A router that answers, of another build than this binary's.
class OtherBuildRouter : public RouterControl {
 public:
  Status Apply(const RoutingTable&) override { return Status::Ok(); }
  Result<RouterStats> Stats(Millis) override { return RouterStats{}; }
  Status Ping() override { return Status::Ok(); }
  Result<RouterHealth> Health() override {
    RouterHealth h;
    h.buildId = "another-build";
    return h;
  }
};

TEST(RouterProcess, ATakeOverThatFailedIsNotTriedAgainAtTheNextCheck) {
  testutil::TempDir dir;
  // The "new router": counts its runs and fails at once, as a take-over refused by the router.
  const std::string runs = dir.path() + "/runs";
  const std::string exe = dir.path() + "/lastgood";
  std::ofstream(exe) << "#!/bin/sh\necho run >> '" << runs << "'\nexit 1\n";
  ::chmod(exe.c_str(), 0755);
  std::filesystem::create_directories(dir.path() + "/logs");
  OtherBuildRouter control;
  RouterProcess router(exe, dir.path(), &control);

  bool started = false;
  ASSERT_TRUE(router.Ensure(&started).ok());
  EXPECT_FALSE(started);
  ASSERT_TRUE(testutil::WaitUntil([&] { return testutil::ReadFile(runs) == "run\n"; },
                                  std::chrono::seconds(5)));
  // The next checks (every half second in serve and the node) start no other take-over.
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(router.Ensure(&started).ok());
  EXPECT_EQ(testutil::ReadFile(runs), "run\n");
}

}  // namespace
}  // namespace lastgood
