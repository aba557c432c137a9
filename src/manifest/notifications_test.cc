// `notifications:` as ParseManifest reads, checks and renders it back.
#include <gtest/gtest.h>

#include "manifest/canonical.h"
#include "manifest/parser.h"
#include "manifest/testing.h"

namespace lastgood {
namespace {

using namespace manifest_testing;

// A manifest whose only webhook has the given url.
std::string WithUrl(const std::string& url) {
  return With("notifications:\n  webhooks:\n    - url: " + url + "\n");
}

const std::vector<std::string> kAll = {"started", "succeeded", "failed", "rolledBack", "canceled"};

TEST(Notifications, AreEmptyWhenNotWritten) {
  EXPECT_TRUE(Parse(kMinimalManifest).notifications.webhooks.empty());
  EXPECT_TRUE(Parse(With("notifications: {}\n")).notifications.webhooks.empty());
}

TEST(Notifications, ReadsWebhooksWithTheirEventsAndSecret) {
  Manifest m = Parse(With(R"(parameters:
  hookPort: { default: "9000" }
notifications:
  webhooks:
    - url: http://127.0.0.1:${params.hookPort}/hooks/lastgood
      events: [failed, rolledBack]
      secretEnv: LASTGOOD_WEBHOOK_SECRET
    - url: https://hooks.example.com/x?team=web
)"));
  ASSERT_EQ(m.notifications.webhooks.size(), 2u);
  const Webhook& first = m.notifications.webhooks[0];
  EXPECT_EQ(first.url, "http://127.0.0.1:9000/hooks/lastgood");
  EXPECT_EQ(first.events, (std::vector<std::string>{"failed", "rolledBack"}));
  EXPECT_EQ(first.secretEnv, "LASTGOOD_WEBHOOK_SECRET");
  EXPECT_EQ(m.notifications.webhooks[1].events, kAll);
  EXPECT_EQ(m.notifications.webhooks[1].secretEnv, "");
}

TEST(Notifications, AcceptUrlsWithNamesAddressesAndPorts) {
  for (const char* url : {"http://localhost", "http://127.0.0.1:9000", "http://[::1]:8080/x",
                          "https://hooks.example.com:8443/a/b?c=d", "http://a-b.c1.example"}) {
    EXPECT_EQ(Parse(WithUrl(url)).notifications.webhooks.at(0).url, url);
  }
}

TEST(Notifications, RefuseUrlsThatCannotBeDeliveredTo) {
  const char* field = "notifications.webhooks[0].url";
  EXPECT_MANIFEST_ERROR(WithUrl("ftp://x/y"), field, 6, "http:// or https://");
  EXPECT_MANIFEST_ERROR(WithUrl("127.0.0.1:9000/hooks"), field, 6, "http:// or https://");
  EXPECT_MANIFEST_ERROR(WithUrl("http://127.0.0.1:0/x"), field, 6, "port 1-65535");
  EXPECT_MANIFEST_ERROR(WithUrl("http://127.0.0.1:70000/"), field, 6, "port 1-65535");
  EXPECT_MANIFEST_ERROR(WithUrl("http://h:80x/"), field, 6, "port 1-65535");
  EXPECT_MANIFEST_ERROR(WithUrl("http:///path"), field, 6, "host name or IP address");
  EXPECT_MANIFEST_ERROR(WithUrl("http://300.1.1.1/"), field, 6, "host name or IP address");
  EXPECT_MANIFEST_ERROR(WithUrl("http://bad_host/"), field, 6, "host name or IP address");
  EXPECT_MANIFEST_ERROR(WithUrl("http://x/#frag"), field, 6, "fragment");
  EXPECT_MANIFEST_ERROR(WithUrl("\"http://x/a b\""), field, 6, "space");
}

TEST(Notifications, RefuseCredentialsInTheUrl) {
  EXPECT_MANIFEST_ERROR(WithUrl("http://user:pass@hooks.example.com/"),
                        "notifications.webhooks[0].url", 6, "secretEnv");
}

TEST(Notifications, RefuseAUrlOverTheLengthLimit) {
  EXPECT_MANIFEST_ERROR(WithUrl("http://x/" + std::string(2100, 'a')),
                        "notifications.webhooks[0].url", 6, "the limit is 2048");
}

TEST(Notifications, RequireAUrlForEachWebhook) {
  EXPECT_MANIFEST_ERROR(With("notifications:\n  webhooks:\n    - events: [failed]\n"),
                        "notifications.webhooks[0].url", 6, "missing url");
}

TEST(Notifications, SuggestTheClosestEventName) {
  EXPECT_MANIFEST_ERROR(
      With(
          "notifications:\n  webhooks:\n    - url: http://x\n      events: [failed, rolledback]\n"),
      "notifications.webhooks[0].events[1]", 7, "did you mean 'rolledBack'?");
  EXPECT_MANIFEST_ERROR(
      With("notifications:\n  webhooks:\n    - url: http://x\n      events: [deployed]\n"),
      "notifications.webhooks[0].events[0]", 7, "the events are started, succeeded");
}

TEST(Notifications, RefuseAnEmptyOrRepeatedEventList) {
  EXPECT_MANIFEST_ERROR(
      With("notifications:\n  webhooks:\n    - url: http://x\n      events: []\n"),
      "notifications.webhooks[0].events", 7, "nothing would ever be sent");
  EXPECT_MANIFEST_ERROR(
      With("notifications:\n  webhooks:\n    - url: http://x\n      events: [failed, failed]\n"),
      "notifications.webhooks[0].events[1]", 7, "listed twice");
  EXPECT_MANIFEST_ERROR(
      With("notifications:\n  webhooks:\n    - url: http://x\n      events: failed\n"),
      "notifications.webhooks[0].events", 7, "expected a list of events");
}

TEST(Notifications, RefuseASecretEnvThatIsNotAVariableName) {
  EXPECT_MANIFEST_ERROR(
      With("notifications:\n  webhooks:\n    - url: http://x\n      secretEnv: s3cr=t\n"),
      "notifications.webhooks[0].secretEnv", 7, "not an environment variable name");
}

// Issue 11 D: the author of a manifest picks the receiver, so a key taken from any of the
// controller's variables would sign bodies with (and let the receiver test guesses of) a
// secret that is not the webhook's.
TEST(Notifications, RefuseASecretEnvThatIsNotMeantForWebhooks) {
  for (const char* name : {"HOME", "AWS_SECRET_ACCESS_KEY", "LASTGOOD_TOKEN", "LASTGOOD_WEBHOOK_",
                           "lastgood_webhook_secret", "XLASTGOOD_WEBHOOK_SECRET"}) {
    EXPECT_MANIFEST_ERROR(With(std::string("notifications:\n  webhooks:\n    - url: http://x\n"
                                           "      secretEnv: ") +
                               name + "\n"),
                          "notifications.webhooks[0].secretEnv", 7, "LASTGOOD_WEBHOOK_");
  }
}

TEST(Notifications, RefuseMoreThanTenWebhooks) {
  std::string yaml = With("notifications:\n  webhooks:\n");
  for (int i = 0; i < 11; ++i)
    yaml += "    - url: http://127.0.0.1:" + std::to_string(9000 + i) + "\n";
  EXPECT_MANIFEST_ERROR(yaml, "notifications.webhooks", 6, "more than 10 webhooks");
}

TEST(Notifications, RefuseUnknownFieldsWithASuggestion) {
  EXPECT_MANIFEST_ERROR(With("notifications:\n  webhook: []\n"), "notifications.webhook", 5,
                        "webhooks");
  EXPECT_MANIFEST_ERROR(With("notifications:\n  webhooks:\n    - url: http://x\n      secret: K\n"),
                        "notifications.webhooks[0].secret", 7, "secretEnv");
}

TEST(Notifications, RoundTripThroughTheCanonicalText) {
  Manifest m = Parse(With(R"(notifications:
  webhooks:
    - url: http://127.0.0.1:9000/hooks/lastgood
      events: [failed, rolledBack]
      secretEnv: LASTGOOD_WEBHOOK_SECRET
    - url: "http://x/?q=yes&r=1"
)"));
  ASSERT_EQ(m.notifications.webhooks.size(), 2u);
  std::string text = ToCanonicalYaml(m);
  auto again = ParseManifest(text, {});
  ASSERT_TRUE(again.ok()) << again.error().ToString() << "\n" << text;
  EXPECT_EQ(again->manifest.notifications, m.notifications) << text;
  EXPECT_EQ(ToCanonicalYaml(again->manifest), text);
}

TEST(Notifications, LeaveTheCanonicalTextOfAManifestWithoutThemUnchanged) {
  EXPECT_EQ(ToCanonicalYaml(Parse(kMinimalManifest)).find("notifications"), std::string::npos);
}

}  // namespace
}  // namespace lastgood
