#include "base/build_id.h"

#include <gtest/gtest.h>

namespace lastgood {
namespace {

TEST(BuildId, IsTheHexOfTheLinkersNote) {
  const std::string& id = BuildId();
  ASSERT_GE(id.size(), 16u) << "the test binary was linked without --build-id";
  for (char c : id) EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << id;
  EXPECT_EQ(&BuildId(), &id) << "read once";
}

TEST(BuildId, MachineArchIsWhatUnameSays) { EXPECT_FALSE(MachineArch().empty()); }

}  // namespace
}  // namespace lastgood
