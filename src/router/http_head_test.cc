#include "router/http_head.h"

#include <gtest/gtest.h>

#include <string>

namespace lastgood {
namespace {

ScanResult Scan(const std::string& s, size_t* head_size = nullptr) {
  size_t scanned = 0, size = 0;
  ScanResult r = ScanHead(s.data(), s.size(), &scanned, &size);
  if (head_size) *head_size = size;
  return r;
}

TEST(ScanHead, FindsTheEndOfACompleteHead) {
  size_t size = 0;
  std::string head = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  EXPECT_EQ(Scan(head + "body", &size), ScanResult::kComplete);
  EXPECT_EQ(size, head.size());
}

TEST(ScanHead, ResumesWhereItStopped) {
  std::string part = "GET / HTTP/1.1\r\nHost: x\r\n\r";
  size_t scanned = 0, size = 0;
  EXPECT_EQ(ScanHead(part.data(), part.size(), &scanned, &size), ScanResult::kNeedMore);
  part += "\n";
  EXPECT_EQ(ScanHead(part.data(), part.size(), &scanned, &size), ScanResult::kComplete);
  EXPECT_EQ(size, part.size());
}

TEST(ScanHead, RefusesBareLineFeedsAndFoldedLines) {
  EXPECT_EQ(Scan("GET / HTTP/1.1\nHost: x\r\n\r\n"), ScanResult::kBareLf);
  EXPECT_EQ(Scan("GET / HTTP/1.1\r\nHost: x\n\n"), ScanResult::kBareLf);
  EXPECT_EQ(Scan("GET / HTTP/1.1\r\nX-A: a\r\n b\r\nHost: x\r\n\r\n"), ScanResult::kObsFold);
  EXPECT_EQ(Scan("GET / HTTP/1.1\r\nX-A: a\r\n\tb\r\n\r\n"), ScanResult::kObsFold);
}

TEST(Tokens, MatchCaseInsensitivelyInLists) {
  EXPECT_TRUE(ListHasToken("keep-alive, Upgrade", "upgrade"));
  EXPECT_FALSE(ListHasToken("keep-alive, Upgraded", "upgrade"));
  EXPECT_TRUE(EqualsIgnoreCase("X-Forwarded-For", "x-forwarded-for"));
}

TEST(AppendChunk, WritesHexSizeAndCrlf) {
  std::string out;
  AppendChunk(&out, std::string(26, 'z'));
  EXPECT_EQ(out, "1a\r\n" + std::string(26, 'z') + "\r\n");
}

}  // namespace
}  // namespace lastgood
