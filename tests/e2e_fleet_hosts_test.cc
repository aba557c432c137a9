// The fleet tests' hosts themselves (tests/fleet/hosts): each is its own machine on the
// network, reached with the real ssh client, and a cut link makes it unreachable until it is
// mended. The fleet scenarios build on these properties.
#include <gtest/gtest.h>

#include "testutil/fleet_hosts.h"

namespace lastgood::testutil {
namespace {

TEST(FleetHosts, EachHostHasItsOwnAddressAndIsReachedWithSsh) {
  FleetHosts hosts(2);
  ASSERT_TRUE(hosts.ok()) << hosts.error();
  for (int i = 1; i <= 2; ++i) {
    auto r = hosts.Ssh(i, {"ip", "-o", "-4", "addr", "show", "eth0"});
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_NE(r.out.find(hosts.Address(i) + "/24"), std::string::npos) << r.out;
  }
}

TEST(FleetHosts, ACutLinkMakesTheHostUnreachableUntilItIsMended) {
  FleetHosts hosts(1);
  ASSERT_TRUE(hosts.ok()) << hosts.error();
  hosts.Cut(1);
  auto cut = hosts.Ssh(1, {"true"}, std::chrono::seconds(15), {"-o", "ConnectTimeout=1"});
  EXPECT_NE(cut.code, 0) << "ssh reached a host whose link is down";
  hosts.Mend(1);
  auto mended = hosts.Ssh(1, {"true"});
  EXPECT_EQ(mended.code, 0) << mended.out;
}

}  // namespace
}  // namespace lastgood::testutil
