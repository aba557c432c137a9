#include "manifest/history.h"

#include <gtest/gtest.h>

#include "manifest/canonical.h"
#include "manifest/parser.h"
#include "manifest/testing.h"

namespace lastgood {
namespace {

using namespace manifest_testing;

TEST(HistorySection, KeepsEverythingWhenAbsentAndLeavesTheCanonicalFormAsItWas) {
  auto parsed = ParseManifest(kMinimalManifest, {});
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(parsed->manifest.history.keep, 0);
  EXPECT_EQ(ToCanonicalYaml(parsed->manifest).find("history"), std::string::npos);
}

TEST(HistorySection, ReadsKeepAndWritesItBackCanonically) {
  auto parsed = ParseManifest(std::string(kMinimalManifest) + "history: { keep: 25 }\n", {});
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(parsed->manifest.history.keep, 25);
  auto again = ParseManifest(ToCanonicalYaml(parsed->manifest), {});
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  EXPECT_EQ(again->manifest.history.keep, 25);
}

TEST(HistorySection, RefusesKeepingFewerThanTenWithFieldAndLine) {
  auto parsed = ParseManifest(std::string(kMinimalManifest) + "history:\n  keep: 3\n", {});
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(parsed.error().field, "history.keep");
  EXPECT_EQ(parsed.error().line, 5);
}

TEST(HistorySection, RefusesUnknownFields) {
  auto parsed =
      ParseManifest(std::string(kMinimalManifest) + "history: { keep: 10, days: 3 }\n", {});
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().field, "history.days");
}

}  // namespace
}  // namespace lastgood
