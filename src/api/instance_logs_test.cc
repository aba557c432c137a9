#include "api/instance_logs.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace lastgood {
namespace {

namespace fs = std::filesystem;

class InstanceLogsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = (fs::temp_directory_path() /
             ("lg-logs-" + std::to_string(::getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                .string();
    fs::create_directories(root_ + "/web");
  }
  void TearDown() override { fs::remove_all(root_); }
  void Append(const std::string& file, const std::string& text) {
    std::ofstream(root_ + "/web/" + file, std::ios::app) << text;
  }
  static InstanceRecord Running(const std::string& id, const std::string& slot, int version) {
    InstanceRecord r;
    r.id = id;
    r.app = "web";
    r.slot = slot;
    r.version = version;
    return r;
  }
  std::string root_;
};

TEST_F(InstanceLogsTest, ReadsWholeLinesOnlyUnlessAskedForTheLastPartOne) {
  Append("web-production-v1-aaaa.out.log", "one\ntwo\nthr");
  auto files = FindLogFiles(root_, "web", {Running("web-production-v1-aaaa", "production", 1)}, {});
  ASSERT_EQ(files.size(), 1u);
  LogRead whole = ReadLogs(files, {}, 0, kMaxLogReadBytes, false);
  ASSERT_EQ(whole.chunks.size(), 1u);
  EXPECT_EQ(whole.chunks[0].text, "one\ntwo\n");
  EXPECT_EQ(whole.cursor.at(files[0].key()), 8u);

  Append("web-production-v1-aaaa.out.log", "ee\n");
  LogRead next = ReadLogs(files, whole.cursor, 0, kMaxLogReadBytes, false);
  ASSERT_EQ(next.chunks.size(), 1u);
  EXPECT_EQ(next.chunks[0].text, "three\n");

  Append("web-production-v1-aaaa.out.log", "four");
  LogRead partial = ReadLogs(files, next.cursor, 0, kMaxLogReadBytes, true);
  ASSERT_EQ(partial.chunks.size(), 1u);
  EXPECT_EQ(partial.chunks[0].text, "four");
}

TEST_F(InstanceLogsTest, SinceStartsEachFileWhereItsLastSampleBeforeThatTimeSawIt) {
  std::map<std::string, uint64_t> sizes;
  Append("web-production-v1-aaaa.out.log", "old\n");
  SampleLogSizes(root_, 1'000, &sizes);
  Append("web-production-v1-aaaa.out.log", "new\n");
  SampleLogSizes(root_, 5'000, &sizes);
  SampleLogSizes(root_, 6'000, &sizes);  // unchanged: no record
  EXPECT_EQ(fs::file_size(root_ + "/web/web-production-v1-aaaa.out.log.idx"), 32u);
  auto files = FindLogFiles(root_, "web", {Running("web-production-v1-aaaa", "production", 1)}, {});
  auto text = [&](int64_t since) {
    LogRead r = ReadLogs(files, {}, since, kMaxLogReadBytes, true);
    return r.chunks.empty() ? std::string() : r.chunks[0].text;
  };
  EXPECT_EQ(text(500), "old\nnew\n");  // before any sample: everything
  EXPECT_EQ(text(1'000), "new\n");     // "old" was there at 1 s
  EXPECT_EQ(text(4'999), "new\n");     // "new" came after 1 s, when is not known closer
  EXPECT_EQ(text(5'000), "");          // both were there at 5 s
  EXPECT_EQ(text(90'000), "");
}

TEST_F(InstanceLogsTest, AnIndexPastItsBoundIsThinnedAndSinceStillLeavesNothingNewOut) {
  std::map<std::string, uint64_t> sizes;
  const size_t bound = 100, samples = bound + 10;
  for (size_t i = 1; i <= samples; ++i) {
    Append("web-production-v1-aaaa.out.log", std::to_string(i) + "\n");
    SampleLogSizes(root_, static_cast<int64_t>(i) * 1000, &sizes, bound);
  }
  auto idx = fs::file_size(root_ + "/web/web-production-v1-aaaa.out.log.idx");
  EXPECT_LE(idx, bound * 16);
  EXPECT_GE(idx, bound * 16 / 2);
  auto files = FindLogFiles(root_, "web", {Running("web-production-v1-aaaa", "production", 1)}, {});
  auto first_line = [&](int64_t since) {
    LogRead r = ReadLogs(files, {}, since, kMaxLogReadBytes, true);
    return r.chunks.empty() ? std::string()
                            : r.chunks[0].text.substr(0, r.chunks[0].text.find('\n'));
  };
  // Recent samples are kept as they were; older ones may start a line or so earlier.
  EXPECT_EQ(first_line(static_cast<int64_t>(samples - 5) * 1000), std::to_string(samples - 4));
  int old = std::stoi(first_line(10'000));
  EXPECT_LE(old, 11);
  EXPECT_GE(old, 9);
}

TEST_F(InstanceLogsTest, FiltersBySlotVersionAndInstanceAndFindsStoppedOnesOnlyWhenNamed) {
  Append("web-production-v1-aaaa.out.log", "a\n");
  Append("web-production-v1-aaaa.err.log", "a!\n");
  Append("web-staging-v2-bbbb.out.log", "b\n");
  Append("web-production-v3-cccc.out.log", "c\n");  // stopped: not in the store
  std::vector<InstanceRecord> now = {Running("web-production-v1-aaaa", "production", 1),
                                     Running("web-staging-v2-bbbb", "staging", 2)};
  EXPECT_EQ(FindLogFiles(root_, "web", now, {}).size(), 3u);
  EXPECT_EQ(FindLogFiles(root_, "web", now, {"staging", 0, ""}).size(), 1u);
  auto v3 = FindLogFiles(root_, "web", now, {"", 3, ""});
  ASSERT_EQ(v3.size(), 1u);
  EXPECT_EQ(v3[0].instance, "web-production-v3-cccc");
  EXPECT_EQ(FindLogFiles(root_, "web", now, {"", 0, "web-production-v3-cccc"}).size(), 1u);
}

TEST_F(InstanceLogsTest, OneReadTakesAtMostItsBudgetAndSaysThereIsMore) {
  std::string line(1000, 'x');
  for (int i = 0; i < 300; ++i) Append("web-production-v1-aaaa.out.log", line + "\n");
  auto files = FindLogFiles(root_, "web", {Running("web-production-v1-aaaa", "production", 1)}, {});
  LogRead r = ReadLogs(files, {}, 0, 100'000, false);
  ASSERT_EQ(r.chunks.size(), 1u);
  EXPECT_LE(r.chunks[0].text.size(), 100'000u);
  EXPECT_EQ(r.chunks[0].text.back(), '\n');
  EXPECT_TRUE(r.more);
}

TEST_F(InstanceLogsTest, ACursorGoesToTextAndBackAndNothingElseParses) {
  std::map<std::string, uint64_t> c = {{"e510c945e4", 12}, {"0123456789", 0}};
  auto back = ParseLogCursor(FormatLogCursor(c));
  ASSERT_TRUE(back.ok());
  // A file at 0 is left out: not in a cursor, it is read from its start.
  EXPECT_EQ(*back, (std::map<std::string, uint64_t>{{"e510c945e4", 12}}));
  EXPECT_FALSE(ParseLogCursor("a.out:-1").ok());
  EXPECT_FALSE(ParseLogCursor("a.out").ok());
  EXPECT_FALSE(ParseLogCursor(":5").ok());
}

TEST_F(InstanceLogsTest, ANodesFolderOfEveryAppsFilesIsSampledSoSinceWorksThere) {
  // A node's logs folder: files side by side, no folder per app; its own node.log beside them.
  const std::string node_logs = root_ + "/web";
  Append("web-production-v1-h1-aaaa.out.log", "old\n");
  Append("node.log", "the node's own lines\n");
  std::map<std::string, uint64_t> sizes;
  SampleLogSizesIn(node_logs, 1'000, &sizes);
  Append("web-production-v1-h1-aaaa.out.log", "new\n");
  SampleLogSizesIn(node_logs, 5'000, &sizes);
  EXPECT_FALSE(fs::exists(node_logs + "/node.log.idx"));
  auto files =
      FindHostLogFiles(node_logs, "web", {"production"}, {"web-production-v1-h1-aaaa"}, {});
  ASSERT_EQ(files.size(), 1u);
  LogRead r = ReadLogs(files, {}, 1'000, kMaxLogReadBytes, false);
  ASSERT_EQ(r.chunks.size(), 1u);
  EXPECT_EQ(r.chunks[0].text, "new\n");
}

TEST_F(InstanceLogsTest, TailGivesEachFilesLastLinesAndACursorGoesOnFromWhereItWas) {
  std::string many;
  for (int i = 1; i <= 20'000; ++i) many += "line " + std::to_string(i) + "\n";  // > 64 KiB
  Append("web-production-v1-aaaa.out.log", many + "partial");
  Append("web-production-v1-aaaa.err.log", "only\n");
  auto files = FindLogFiles(root_, "web", {Running("web-production-v1-aaaa", "production", 1)}, {});
  ASSERT_EQ(files.size(), 2u);
  auto texts = [&](int tail, bool partial, std::map<std::string, uint64_t> cursor = {}) {
    std::map<std::string, std::string> out;
    for (const auto& c : ReadLogs(files, cursor, 0, kMaxLogReadBytes, partial, tail).chunks)
      out[c.stream] += c.text;
    return out;
  };
  EXPECT_EQ(texts(2, false)["out"], "line 19999\nline 20000\n");
  EXPECT_EQ(texts(2, true)["out"], "line 20000\npartial");  // the line being written counts
  EXPECT_EQ(texts(2, false)["err"], "only\n");              // fewer lines than asked: all
  // A file the cursor names goes on from there, whatever the tail.
  auto from_cursor = texts(1, false, {{files[0].key(), many.size() - 11}});
  EXPECT_EQ(from_cursor["err"], "only\n");
  EXPECT_EQ(from_cursor["out"], "line 20000\n");
  EXPECT_EQ(texts(1, false, {{files[1].key(), many.size() - 22}})["out"], "line 20000\n");
}

TEST(LogCursor, AFleetsHundredsOfInstancesFitInARequestLineAndKeysAreTheSameInEveryBuild) {
  // A fixed value: a node and a controller of other builds read each other's cursors.
  EXPECT_EQ((LogFile{"web-production-v1-aaaa", "out", ""}.key()), "e510c945e4");
  // 100 hosts of 4 instances (2 ready, 2 warm) that wrote a GB each to stdout, nothing to
  // stderr.
  std::map<std::string, uint64_t> cursor;
  for (int host = 0; host < 100; ++host) {
    for (int i = 0; i < 4; ++i) {
      const std::string id =
          "web-production-v123-web-server-" + std::to_string(host) + "-a1b" + std::to_string(i);
      cursor[LogFile{id, "out", ""}.key()] = 1'000'000'000;
      cursor[LogFile{id, "err", ""}.key()] = 0;
    }
  }
  EXPECT_EQ(cursor.size(), 800u) << "two files share a key";
  const std::string text = FormatLogCursor(cursor);
  EXPECT_LT(text.size(), 10u * 1024) << "the API reads at most 16 KiB of a request's head";
  auto back = ParseLogCursor(text);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->size(), 400u);  // the files at offset 0 are left out, and read from 0
  for (const auto& [key, offset] : *back) EXPECT_EQ(cursor.at(key), offset);
}

}  // namespace
}  // namespace lastgood
