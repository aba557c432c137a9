#include "base/version.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>

namespace lastgood {
namespace {

TEST(Version, IsTheVersionFileOfTheSourceTree) {
  std::ifstream in(LASTGOOD_SOURCE_DIR "/VERSION");
  std::string line;
  std::getline(in, line);
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(ThisBuild().version, line);
}

TEST(Version, NamesTheCommitAsFortyHexDigitsOrNothing) {
  const std::string& commit = ThisBuild().commit;
  EXPECT_TRUE(commit.empty() || std::regex_match(commit, std::regex("[0-9a-f]{40}"))) << commit;
}

TEST(Version, DescribesItselfWithShortDigitsAndSaysWhatIsUnknown) {
  BuildVersion v{"1.2.3", std::string(40, 'a'), ""};
  EXPECT_EQ(DescribeBuild(v), "lastgood 1.2.3 (commit unknown, build aaaaaaaaaaaa)");
}

TEST(Version, JsonHasTheThreeFieldsAndReadsBack) {
  BuildVersion v{"1.2.3", "abc", "def"};
  nlohmann::json j = BuildVersionJson(v);
  EXPECT_EQ(j, (nlohmann::json{{"version", "1.2.3"}, {"buildId", "abc"}, {"commit", "def"}}));
  BuildVersion back = BuildVersionFromJson(j);
  EXPECT_EQ(back.version, "1.2.3");
  EXPECT_EQ(back.buildId, "abc");
  EXPECT_EQ(back.commit, "def");
}

TEST(Version, AnOddAnswerReadsAsUnknownRatherThanThrowing) {
  EXPECT_EQ(BuildVersionFromJson(nlohmann::json{{"buildId", 7}}).buildId, "");
  EXPECT_EQ(BuildVersionFromJson(nlohmann::json::array()).version, "");
}

}  // namespace
}  // namespace lastgood
