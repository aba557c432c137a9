#include "wire/json_text.h"

#include <gtest/gtest.h>

namespace lastgood {
namespace {

using nlohmann::json;

TEST(DumpJson, ReplacesBytesThatAreNotUtf8InsteadOfThrowing) {
  json j = {{"action", std::string("GET /v1/\xff")}, {"nested", {std::string("a\xc3")}}};
  EXPECT_THROW((void)j.dump(), json::type_error);  // what crashed the controller (issue 11)
  std::string text;
  ASSERT_NO_THROW(text = DumpJson(j));
  json back = json::parse(text);
  EXPECT_EQ(back["action"], "GET /v1/\xef\xbf\xbd");
  EXPECT_EQ(back["nested"][0], "a\xef\xbf\xbd");
}

TEST(DumpJson, KeepsValidUtf8AsItIs) {
  json j = {{"greeting", "héllo ✓"}};
  EXPECT_EQ(DumpJson(j), j.dump());
}

TEST(DumpJsonIndented, IndentsAndRepairs) {
  std::string text = DumpJsonIndented(json{{"k", std::string("\xfe")}}, 2);
  EXPECT_NE(text.find("\n  \"k\""), std::string::npos) << text;
  json parsed;
  EXPECT_NO_THROW(parsed = json::parse(text));
  EXPECT_EQ(parsed["k"], "\xef\xbf\xbd");
}

TEST(Utf8String, GivesAValueThatDumpsWithTheStrictSerialiser) {
  json j = {{"v", Utf8String("x\x80y")}};
  EXPECT_NO_THROW((void)j.dump());
}

TEST(ErrorJson, RepairsMessageAndFieldAndKeepsCodeAndLine) {
  json j = ErrorJson(Error::InvalidInput("bad \xff", "f\xff", 7));
  EXPECT_NO_THROW((void)j.dump());
  EXPECT_EQ(j["error"]["code"], "invalid_input");
  EXPECT_EQ(j["error"]["line"], 7);
}

TEST(CrashResponse, Is500NamingTheRequestButNotItsBodyOrQuery) {
  ApiRequest r;
  r.method = "POST";
  r.target = "/v1/apply?x=secret-query";
  r.body = R"({"manifest":"secret-body"})";
  ApiResponse res = CrashResponse(r, "boom");
  EXPECT_EQ(res.status, 500);
  EXPECT_NE(res.body.find("POST /v1/apply"), std::string::npos) << res.body;
  EXPECT_EQ(res.body.find("secret"), std::string::npos) << res.body;
}

TEST(CrashResponse, ClipsALongPath) {
  ApiRequest r;
  r.method = "GET";
  r.target = "/v1/" + std::string(10'000, 'a');
  EXPECT_LT(CrashResponse(r, "boom").body.size(), 1000u);
}

}  // namespace
}  // namespace lastgood
