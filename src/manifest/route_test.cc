// route: slotPinning, trustedProxies, maxConnectionsPerClient (issue 11 D). The address
// fields are covered in parser_test.cc.
#include <gtest/gtest.h>

#include "manifest/canonical.h"
#include "manifest/parser.h"
#include "manifest/testing.h"

namespace lastgood {
namespace {

using namespace manifest_testing;

TEST(RouteManifest, DefaultsToPinningOnNoTrustedProxiesAndNoPerClientLimit) {
  Manifest m = Parse(With("route: { listen: 127.0.0.1:8080 }\n"));
  EXPECT_TRUE(m.route.slotPinning);
  EXPECT_TRUE(m.route.trustedProxies.empty());
  EXPECT_EQ(m.route.maxConnectionsPerClient, 0);
}

TEST(RouteManifest, ReadsTheHardeningFieldsAndWritesThemBackCanonically) {
  Manifest m =
      Parse(With("route:\n  listen: 127.0.0.1:8080\n  slotPinning: off\n"
                 "  trustedProxies: [10.0.0.0/8, \"fd00::/8\", 192.168.1.7]\n"
                 "  maxConnectionsPerClient: 50\n"));
  EXPECT_FALSE(m.route.slotPinning);
  EXPECT_EQ(m.route.trustedProxies,
            (std::vector<std::string>{"10.0.0.0/8", "fd00::/8", "192.168.1.7"}));
  EXPECT_EQ(m.route.maxConnectionsPerClient, 50);
  std::string text = ToCanonicalYaml(m);
  auto again = ParseManifest(text, {});
  ASSERT_TRUE(again.ok()) << again.error().ToString() << "\n" << text;
  EXPECT_EQ(again->manifest, m) << text;
  EXPECT_TRUE(
      Parse(With("route: { listen: 127.0.0.1:8080, slotPinning: on }\n")).route.slotPinning);
}

TEST(RouteManifest, AManifestWithoutTheNewFieldsKeepsItsCanonicalText) {
  Manifest m = Parse(With("route: { listen: 127.0.0.1:8080 }\n"));
  std::string text = ToCanonicalYaml(m);
  EXPECT_EQ(text.find("slotPinning"), std::string::npos);
  EXPECT_EQ(text.find("trustedProxies"), std::string::npos);
  EXPECT_EQ(text.find("maxConnectionsPerClient"), std::string::npos);
}

TEST(RouteManifest, RefusesBadValuesNamingTheField) {
  EXPECT_MANIFEST_ERROR(With("route:\n  slotPinning: maybe\n"), "route.slotPinning", 5,
                        "expected on or off");
  EXPECT_MANIFEST_ERROR(With("route:\n  trustedProxies: 10.0.0.0/8\n"), "route.trustedProxies", 5,
                        "expected a list of networks");
  EXPECT_MANIFEST_ERROR(With("route:\n  trustedProxies:\n    - 10.0.0.1/8\n"),
                        "route.trustedProxies[0]", 6, "did you mean 10.0.0.0/8?");
  EXPECT_MANIFEST_ERROR(With("route:\n  trustedProxies: [proxy.example]\n"),
                        "route.trustedProxies[0]", 5, "not an IP network");
  EXPECT_MANIFEST_ERROR(With("route:\n  maxConnectionsPerClient: -1\n"),
                        "route.maxConnectionsPerClient", 5, "");
}

}  // namespace
}  // namespace lastgood
