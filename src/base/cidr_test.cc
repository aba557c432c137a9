#include "base/cidr.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

namespace lastgood {
namespace {

bool In(const Cidr& c, const char* address) {
  uint8_t bytes[16];
  bool v6 = std::string(address).find(':') != std::string::npos;
  EXPECT_EQ(inet_pton(v6 ? AF_INET6 : AF_INET, address, bytes), 1) << address;
  return c.Contains(v6, bytes);
}

TEST(Cidr, MatchesAddressesInsideTheNetworkOnly) {
  auto net = ParseCidr("10.1.0.0/16");
  ASSERT_TRUE(net.ok());
  EXPECT_TRUE(In(*net, "10.1.200.3"));
  EXPECT_FALSE(In(*net, "10.2.0.1"));
  EXPECT_FALSE(In(*net, "::1"));
  EXPECT_TRUE(In(*net, "::ffff:10.1.0.9"));  // how a dual-stack socket shows an IPv4 peer
}

TEST(Cidr, ABareAddressIsOneHost) {
  auto one = ParseCidr("127.0.0.1");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->prefix, 32);
  EXPECT_TRUE(In(*one, "127.0.0.1"));
  EXPECT_FALSE(In(*one, "127.0.0.2"));
  auto v6 = ParseCidr("fd00::/8");
  ASSERT_TRUE(v6.ok());
  EXPECT_TRUE(In(*v6, "fd12::1"));
  EXPECT_FALSE(In(*v6, "fe80::1"));
  EXPECT_TRUE(In(*ParseCidr("0.0.0.0/0"), "8.8.8.8"));
}

TEST(Cidr, RefusesGarbageBadPrefixesAndHostBits) {
  EXPECT_FALSE(ParseCidr("10.0.0.0/33").ok());
  EXPECT_FALSE(ParseCidr("10.0.0.0/").ok());
  EXPECT_FALSE(ParseCidr("10.0.0.0/8x").ok());
  EXPECT_FALSE(ParseCidr("example.com/8").ok());
  EXPECT_FALSE(ParseCidr("").ok());
  auto host_bits = ParseCidr("10.0.0.1/8", "route.trustedProxies[0]");
  ASSERT_FALSE(host_bits.ok());
  EXPECT_NE(host_bits.error().message.find("10.0.0.0/8"), std::string::npos);
  EXPECT_EQ(host_bits.error().field, "route.trustedProxies[0]");
}

}  // namespace
}  // namespace lastgood
