#include "manifest/parser.h"

#include <gtest/gtest.h>

namespace lastgood {
namespace {

TEST(ParseManifest, Smoke) {
  auto r = ParseManifest("app: web\nrun:\n  command: [\"./x\"]\n", {});
  ASSERT_TRUE(r.ok()) << r.error().ToString();
}

}  // namespace
}  // namespace lastgood
