#include "secrets/redact.h"

#include <gtest/gtest.h>

namespace lastgood {
namespace {

TEST(Redact, EveryOccurrenceOfAValueIsReplacedByTheSecretsName) {
  EXPECT_EQ(Redact("login failed for pw=s3cr3t-pw (s3cr3t-pw)", {{"db-password", "s3cr3t-pw"}}),
            "login failed for pw=[secret db-password] ([secret db-password])");
}

TEST(Redact, TextWithoutSecretsIsUnchanged) {
  EXPECT_EQ(Redact("exited with status 1", {{"a", "zzzzzz"}}), "exited with status 1");
  EXPECT_EQ(Redact("exited with status 1", {}), "exited with status 1");
}

TEST(Redact, ALongerValueIsReplacedBeforeAShorterOneInsideIt) {
  EXPECT_EQ(Redact("url=postgres://u:pw123456@db",
                   {{"pw", "pw123456"}, {"url", "postgres://u:pw123456@db"}}),
            "url=[secret url]");
}

TEST(Redact, EachLongLineOfAMultiLineValueIsReplacedOnItsOwn) {
  const std::string pem =
      "-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0\r\nAbc\n-----END KEY-----\n";
  std::string out = Redact("last line: MIIEvQIBADANBgkqhkiG9w0", {{"tls-key", pem}});
  EXPECT_EQ(out, "last line: [secret tls-key]");
}

}  // namespace
}  // namespace lastgood
