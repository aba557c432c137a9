#include "engine/diff.h"

#include <gtest/gtest.h>

namespace lastgood {
namespace {

TEST(Diff, EqualTextsHaveNoDiff) { EXPECT_EQ(UnifiedDiff("a\nb\n", "a\nb\n", "v1", "v2"), ""); }

TEST(Diff, ShowsChangedLinesWithContextLikeDiffU) {
  std::string a = "app: web\nreplicas: 2\nbake: 1s\n";
  std::string b = "app: web\nreplicas: 3\nbake: 1s\n";
  std::string d = UnifiedDiff(a, b, "web v1", "web v2");
  EXPECT_NE(d.find("--- web v1\n+++ web v2\n"), std::string::npos) << d;
  EXPECT_NE(d.find("@@ -1,3 +1,3 @@"), std::string::npos) << d;
  EXPECT_NE(d.find("\n-replicas: 2\n+replicas: 3\n"), std::string::npos) << d;
  EXPECT_NE(d.find("\n app: web\n"), std::string::npos) << d;
}

}  // namespace
}  // namespace lastgood
