#include "base/duration.h"

#include <gtest/gtest.h>

namespace lastgood {
namespace {

TEST(Duration, ParsesEachUnitAndCompounds) {
  EXPECT_EQ(ParseDuration("250ms")->count(), 250);
  EXPECT_EQ(ParseDuration("10s")->count(), 10'000);
  EXPECT_EQ(ParseDuration("5m")->count(), 300'000);
  EXPECT_EQ(ParseDuration("1h")->count(), 3'600'000);
  EXPECT_EQ(ParseDuration("1m30s")->count(), 90'000);
  EXPECT_EQ(ParseDuration("0")->count(), 0);
}

TEST(Duration, RefusesWhatIsNotADuration) {
  for (const char* bad : {"", "10", "-1s", "1x", "s", "10 s", "30s1m", "1s1s", "1.5s"}) {
    auto r = ParseDuration(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidInput);
    EXPECT_NE(r.error().message.find("500ms"), std::string::npos);
  }
}

TEST(Duration, FormatsMeasuredTimesWithThePrecisionThatMatters) {
  using std::chrono::microseconds;
  EXPECT_EQ(FormatMillis(microseconds(432)), "0.43 ms");
  EXPECT_EQ(FormatMillis(microseconds(12'340)), "12.3 ms");
  EXPECT_EQ(FormatMillis(microseconds(1'234'600)), "1235 ms");
}

TEST(Duration, FormatsTheShortestExactForm) {
  EXPECT_EQ(FormatDuration(Millis(1500)), "1500ms");
  EXPECT_EQ(FormatDuration(Millis(90'000)), "1m30s");
  EXPECT_EQ(FormatDuration(Millis(0)), "0s");
  EXPECT_EQ(FormatDuration(Millis(3'600'000)), "1h");
}

}  // namespace
}  // namespace lastgood
