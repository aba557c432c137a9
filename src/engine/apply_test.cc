// Apply's refusals leave nothing behind (issue 11 D): no version, and no stored artifact from
// a what-if. Driven through the Engine with the fakes of tests/testutil/engine_world.h.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "testutil/engine_world.h"

namespace lastgood {
namespace {

using testutil::EngineWorld;
using testutil::WorldManifest;

constexpr const char* kApplyRecreate = "strategy: { type: recreate }\n";

TEST(Apply, RefusedOnceTheVersionWasMadeLeavesNoVersionBehind) {
  EngineWorld w;
  // The last refusal an apply can meet: the controller stops between the version and the
  // deployment (another apply winning the race meets the same path).
  w.engine().Shutdown();
  auto o = w.Apply(WorldManifest(kApplyRecreate), "v1");
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.error().code, ErrorCode::kUnavailable) << o.error().message;
  auto versions = w.sqlite().ListVersions("web");
  EXPECT_TRUE(!versions.ok() || versions->empty())
      << (versions.ok() ? std::to_string(versions->size()) + " versions" : "");
}

TEST(Apply, AWhatIfStoresNoArtifact) {
  EngineWorld w;
  std::string dir = std::filesystem::temp_directory_path() / "lg-apply-what-if";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/web.bin") << "the bits";
  ApplyRequest req;
  req.manifest = WorldManifest(kApplyRecreate) + "";
  req.manifest.replace(req.manifest.find("run:\n"), 5, "run:\n  artifact: web.bin\n");
  req.manifestDir = dir;
  req.params = {{"label", "v1"}};
  req.whatIf = true;
  auto o = w.engine().Apply(req);
  ASSERT_TRUE(o.ok()) << o.error().message;
  EXPECT_TRUE(o->whatIf);
  EXPECT_FALSE(w.artifacts().Has(*w.artifacts().Inspect(dir + "/web.bin")));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace lastgood
