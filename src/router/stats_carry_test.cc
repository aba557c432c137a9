#include "router/stats_carry.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <random>

// Statistics handed from a router worker to its successor: what the successor reads back is
// what the predecessor counted, windows and totals alike; bytes from anywhere else are
// refused whole, never half used.
namespace lastgood {
namespace {

StatsKey Key(const std::string& backend, int version = 2, bool pinned = false) {
  return StatsKey{"web", "production", version, backend, pinned};
}

RequestSample Sample(int status, uint64_t micros) {
  RequestSample s;
  s.status = status;
  s.latency_micros = micros;
  return s;
}

// Two backends with traffic over the last few seconds, one of them pinned too.
void Record(StatsRegistry& registry, int64_t now) {
  auto a = registry.Series(Key("web-2-a"));
  auto b = registry.Series(Key("web-2-b"));
  auto pinned = registry.Series(Key("web-2-a", 2, true));
  for (int64_t s = now - 5; s <= now; ++s) {
    for (int i = 0; i < 20; ++i) a->cells[0]->Record(s, Sample(i % 10 == 0 ? 502 : 200, 800 + i));
    b->cells[1]->Record(s, Sample(200, 15'000));
    pinned->cells[0]->Record(s, Sample(404, 90));
  }
  // Older than any window: in the totals only.
  a->cells[1]->Record(now - kStatsWindowSeconds - 3, Sample(200, 5));
}

std::string Encoded() {
  StatsRegistry registry(2);
  const int64_t now = StatsSecond();
  Record(registry, now);
  CarriedStats c = registry.Export(now);
  c.stats_since_ms = 1'800'000'000'000;
  return EncodeCarriedStats(c);
}

TEST(CarriedStats, ASuccessorReadsTheSameWindowsAndTotalsAsItsPredecessor) {
  StatsRegistry before(2);
  const int64_t now = StatsSecond();
  Record(before, now);
  CarriedStats exported = before.Export(now);
  exported.stats_since_ms = 1'800'000'000'000;
  auto file = WriteCarriedStatsFile(exported);
  ASSERT_TRUE(file.ok()) << file.error().message;
  auto read = ReadCarriedStatsFile(*file);
  ::close(*file);
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(read->stats_since_ms, 1'800'000'000'000);

  StatsRegistry after(4);  // another thread count: a successor may have another --threads
  after.Carry(*read, now);
  for (Millis window : {Millis(1000), Millis(3000), Millis(10'000), Millis(120'000)}) {
    std::string expected = StatsToJson(before.Read(window));
    EXPECT_EQ(StatsToJson(after.Read(window)), expected) << window.count();
  }
  // What it counts itself adds up with what it was handed.
  after.Series(Key("web-2-b"))->cells[3]->Record(now, Sample(500, 15'000));
  RouterStats s = after.Read(Millis(1000));
  bool seen = false;
  for (const auto& row : s.rows) {
    if (row.backend != "web-2-b" || row.pinned) continue;
    seen = true;
    EXPECT_EQ(row.requests, 2u);
    EXPECT_EQ(row.responses5xx, 1u);
    EXPECT_EQ(row.totalRequests, 7u);
  }
  EXPECT_TRUE(seen);
}

TEST(CarriedStats, AWorkerHandsOnWhatItWasHandedTogetherWithItsOwnCounts) {
  StatsRegistry first(1), second(1), third(1);
  const int64_t now = StatsSecond();
  first.Series(Key("web-2-a"))->cells[0]->Record(now - 2, Sample(200, 100));
  second.Carry(first.Export(now), now);
  second.Series(Key("web-2-a"))->cells[0]->Record(now - 1, Sample(503, 100));
  auto back = DecodeCarriedStats(EncodeCarriedStats(second.Export(now)));
  ASSERT_TRUE(back.ok()) << back.error().message;
  third.Carry(*back, now);
  RouterStats s = third.Read(Millis(10'000));
  ASSERT_FALSE(s.rows.empty());
  EXPECT_EQ(s.rows[0].requests, 2u);
  EXPECT_EQ(s.rows[0].responses5xx, 1u);
  EXPECT_EQ(s.rows[0].totalRequests, 2u);
}

TEST(CarriedStats, SecondsOutsideTheWindowAreLeftOutAndACarriedSeriesIsDroppedWhenIdle) {
  StatsRegistry before(1);
  const int64_t now = StatsSecond();
  before.Series(Key("web-2-a"))->cells[0]->Record(now, Sample(200, 100));
  CarriedStats c = before.Export(now);
  StatsRegistry after(1);
  // Handed over two minutes later than counted: its window has passed.
  after.Carry(c, now + kStatsWindowSeconds);
  EXPECT_EQ(after.size(), 1u);
  EXPECT_EQ(after.DropRetired(now + kStatsWindowSeconds - 1), 1u);
  StatsRegistry fresh(1);
  fresh.Carry(c, now);
  EXPECT_EQ(fresh.DropRetired(now + 1), 0u);  // its seconds are recent
  EXPECT_EQ(fresh.DropRetired(now + kStatsWindowSeconds), 1u);
}

TEST(CarriedStats, EveryCutOfTheBytesIsRefused) {
  const std::string bytes = Encoded();
  ASSERT_TRUE(DecodeCarriedStats(bytes).ok());
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(DecodeCarriedStats(std::string_view(bytes).substr(0, n)).ok()) << n;
  }
  EXPECT_FALSE(DecodeCarriedStats(bytes + '\0').ok());
}

TEST(CarriedStats, AnotherLayoutOrAnotherKindOfFileIsRefusedSayingWhy) {
  std::string bytes = Encoded();
  std::string other_version = bytes;
  other_version[8] = 2;
  auto r = DecodeCarriedStats(other_version);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("layout version 2, this build reads 1"), std::string::npos)
      << r.error().message;
  std::string not_ours = bytes;
  not_ours[0] = 'X';
  r = DecodeCarriedStats(not_ours);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("not lastgood statistics"), std::string::npos);
  EXPECT_FALSE(DecodeCarriedStats(std::string(kCarriedStatsLimit + 1, 'L')).ok());
}

// Bytes with one field changed to what an attacker (or a broken build) would send.
std::string Forged(const std::function<void(CarriedStats&)>& change) {
  StatsRegistry registry(2);
  const int64_t now = StatsSecond();
  Record(registry, now);
  CarriedStats c = registry.Export(now);
  change(c);
  return EncodeCarriedStats(c);
}

TEST(CarriedStats, NamesCountsAndBucketsThatNoRouterMakesAreRefused) {
  struct Case {
    const char* what;
    std::function<void(CarriedStats&)> change;
  };
  const Case cases[] = {
      {"a label breaking out of /metrics",
       [](CarriedStats& c) { c.series[0].key.app = "web\"} 1\nx"; }},
      {"an empty backend", [](CarriedStats& c) { c.series[0].key.backend = ""; }},
      {"version 0", [](CarriedStats& c) { c.series[0].key.version = 0; }},
      {"a series twice", [](CarriedStats& c) { c.series.push_back(c.series[0]); }},
      {"more answers than requests",
       [](CarriedStats& c) { c.series[0].totals.by_class[0] += 1000; }},
      {"seconds out of order",
       [](CarriedStats& c) { std::swap(c.series[0].seconds[0], c.series[0].seconds[1]); }},
      {"more than a window of seconds",
       [](CarriedStats& c) {
         auto& s = c.series[0].seconds;
         while (s.size() <= size_t(kStatsWindowSeconds)) {
           CarriedSecond more = s.back();
           more.second += 1;
           s.push_back(more);
         }
       }},
      {"a bucket beyond the histogram",
       [](CarriedStats& c) { c.series[0].seconds[0].histogram.back().first = kLatencyBuckets; }},
      {"more latencies than requests",
       [](CarriedStats& c) { c.series[0].seconds[0].histogram.back().second += 1000; }},
      {"seconds holding more than the totals",
       [](CarriedStats& c) {
         c.series[0].totals.requests = 1;
         c.series[0].totals.by_class[0] = 0;
         c.series[0].totals.by_class[3] = 0;
       }},
      {"a negative statsSince", [](CarriedStats& c) { c.stats_since_ms = -5; }},
  };
  for (const auto& k : cases) {
    auto r = DecodeCarriedStats(Forged(k.change));
    EXPECT_FALSE(r.ok()) << k.what;
    if (!r.ok()) {
      EXPECT_EQ(r.error().code, ErrorCode::kInvalidInput) << k.what;
    }
  }
}

TEST(CarriedStats, RandomDamageIsEitherRefusedOrReadWithinItsLimits) {
  const std::string bytes = Encoded();
  std::mt19937 rng(13);
  for (int round = 0; round < 3000; ++round) {
    std::string damaged = bytes;
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; ++i) damaged[rng() % damaged.size()] = static_cast<char>(rng());
    auto r = DecodeCarriedStats(damaged);
    if (!r.ok()) continue;
    for (const auto& s : r->series) {
      EXPECT_LE(s.seconds.size(), size_t(kStatsWindowSeconds));
      for (const auto& sec : s.seconds) {
        for (const auto& [bucket, count] : sec.histogram) {
          EXPECT_GE(bucket, 0);
          EXPECT_LT(bucket, kLatencyBuckets);
        }
      }
    }
    StatsRegistry registry(1);
    registry.Carry(*r, StatsSecond());  // and what was read can be used
    (void)registry.Read(Millis(120'000));
  }
}

TEST(CarriedStats, ReadingAFileRefusesWhatIsNoRegularFile) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  auto r = ReadCarriedStatsFile(pipe_fds[0]);
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("not a file"), std::string::npos);
}

}  // namespace
}  // namespace lastgood
