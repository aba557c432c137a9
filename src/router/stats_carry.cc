#include "router/stats_carry.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "router/latency_histogram.h"

namespace lastgood {
namespace {

constexpr char kMagic[8] = {'L', 'G', 'S', 'T', 'A', 'T', 'S', '\n'};
constexpr size_t kNameLimit = 63;      // app and slot names (table.h)
constexpr size_t kBackendLimit = 128;  // backend ids (table.h)

// Little-endian fixed-width fields.
class Writer {
 public:
  void U8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void U16(uint16_t v) { Bytes(v, 2); }
  void U32(uint32_t v) { Bytes(v, 4); }
  void U64(uint64_t v) { Bytes(v, 8); }
  void I64(int64_t v) { Bytes(static_cast<uint64_t>(v), 8); }
  void Str(const std::string& s) {
    U8(static_cast<uint8_t>(s.size()));
    out_ += s;
  }
  std::string Take() { return std::move(out_); }

 private:
  void Bytes(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool U8(uint8_t* v) {
    uint64_t x;
    if (!Bytes(1, &x)) return false;
    *v = static_cast<uint8_t>(x);
    return true;
  }
  bool U16(uint16_t* v) {
    uint64_t x;
    if (!Bytes(2, &x)) return false;
    *v = static_cast<uint16_t>(x);
    return true;
  }
  bool U32(uint32_t* v) {
    uint64_t x;
    if (!Bytes(4, &x)) return false;
    *v = static_cast<uint32_t>(x);
    return true;
  }
  bool U64(uint64_t* v) { return Bytes(8, v); }
  bool I64(int64_t* v) {
    uint64_t x;
    if (!Bytes(8, &x)) return false;
    *v = static_cast<int64_t>(x);
    return true;
  }
  bool Str(std::string* s, size_t limit) {
    uint8_t n;
    if (!U8(&n) || n > limit || in_.size() - at_ < n) return false;
    s->assign(in_.substr(at_, n));
    at_ += n;
    return true;
  }
  bool Done() const { return at_ == in_.size(); }

 private:
  bool Bytes(size_t n, uint64_t* v) {
    if (in_.size() - at_ < n) return false;
    uint64_t x = 0;
    for (size_t i = 0; i < n; ++i)
      x |= uint64_t(static_cast<unsigned char>(in_[at_ + i])) << (8 * i);
    at_ += n;
    *v = x;
    return true;
  }
  std::string_view in_;
  size_t at_ = 0;
};

void PutCounters(Writer& w, const StatsCounters& c) {
  w.U64(c.requests);
  for (uint64_t n : c.by_class) w.U64(n);
  w.U64(c.connect_errors);
  w.U64(c.timeouts);
  w.U64(c.max_micros);
}

bool GetCounters(Reader& r, StatsCounters* c) {
  if (!r.U64(&c->requests)) return false;
  for (uint64_t& n : c->by_class)
    if (!r.U64(&n)) return false;
  return r.U64(&c->connect_errors) && r.U64(&c->timeouts) && r.U64(&c->max_micros);
}

// What the table allows (router/table.h): app and slot names [a-z0-9-], backend ids
// [A-Za-z0-9._:-]. Anything else would reach the stats JSON and the /metrics labels.
bool PlainName(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return true;
}
bool BackendId(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

uint64_t ClassSum(const StatsCounters& c) {
  return c.by_class[0] + c.by_class[1] + c.by_class[2] + c.by_class[3];
}

Error Refused(const std::string& why) {
  return Error::InvalidInput("carried statistics refused: " + why);
}

}  // namespace

std::string EncodeCarriedStats(const CarriedStats& stats) {
  Writer w;
  for (char c : kMagic) w.U8(static_cast<uint8_t>(c));
  w.U32(kCarriedStatsVersion);
  w.U32(kExposedLatencyBuckets);
  w.U32(kLatencyBuckets);
  w.I64(stats.stats_since_ms);
  w.U32(static_cast<uint32_t>(stats.series.size()));
  for (const auto& s : stats.series) {
    w.Str(s.key.app);
    w.Str(s.key.slot);
    w.U32(static_cast<uint32_t>(s.key.version));
    w.Str(s.key.backend);
    w.U8(s.key.pinned ? 1 : 0);
    PutCounters(w, s.totals);
    for (uint64_t n : s.totals.latency_buckets) w.U64(n);
    w.U64(s.totals.latency_sum_micros);
    w.U32(static_cast<uint32_t>(s.seconds.size()));
    for (const auto& sec : s.seconds) {
      w.I64(sec.second);
      PutCounters(w, sec.counters);
      w.U32(static_cast<uint32_t>(sec.histogram.size()));
      for (const auto& [bucket, count] : sec.histogram) {
        w.U16(static_cast<uint16_t>(bucket));
        w.U64(count);
      }
    }
  }
  return w.Take();
}

Result<CarriedStats> DecodeCarriedStats(std::string_view bytes) {
  if (bytes.size() > kCarriedStatsLimit)
    return Refused("over " + std::to_string(kCarriedStatsLimit) + " bytes");
  Reader r(bytes);
  for (char c : kMagic) {
    uint8_t got;
    if (!r.U8(&got) || got != static_cast<uint8_t>(c)) return Refused("not lastgood statistics");
  }
  uint32_t version = 0, exposed = 0, buckets = 0, count = 0;
  if (!r.U32(&version)) return Refused("cut short");
  if (version != kCarriedStatsVersion)
    return Refused("layout version " + std::to_string(version) + ", this build reads " +
                   std::to_string(kCarriedStatsVersion));
  if (!r.U32(&exposed) || exposed != kExposedLatencyBuckets || !r.U32(&buckets) ||
      buckets != kLatencyBuckets)
    return Refused("another histogram layout");
  CarriedStats out;
  if (!r.I64(&out.stats_since_ms) || out.stats_since_ms < 0) return Refused("bad statsSince");
  if (!r.U32(&count)) return Refused("cut short");
  const CarriedSeries* previous = nullptr;
  for (uint32_t i = 0; i < count; ++i) {
    const std::string where = "series " + std::to_string(i) + ": ";
    CarriedSeries s;
    uint32_t key_version, seconds;
    uint8_t pinned;
    if (!r.Str(&s.key.app, kNameLimit) || !r.Str(&s.key.slot, kNameLimit) || !r.U32(&key_version) ||
        !r.Str(&s.key.backend, kBackendLimit) || !r.U8(&pinned))
      return Refused(where + "cut short or a name too long");
    if (!PlainName(s.key.app) || !PlainName(s.key.slot) || !BackendId(s.key.backend))
      return Refused(where + "a name the table does not allow");
    if (key_version < 1 || key_version > 0x7fffffff || pinned > 1)
      return Refused(where + "bad version or pinned flag");
    s.key.version = static_cast<int>(key_version);
    s.key.pinned = pinned == 1;
    if (previous && !(previous->key < s.key)) return Refused(where + "out of order or twice");
    if (!GetCounters(r, &s.totals)) return Refused(where + "cut short");
    for (uint64_t& n : s.totals.latency_buckets)
      if (!r.U64(&n)) return Refused(where + "cut short");
    if (!r.U64(&s.totals.latency_sum_micros) || !r.U32(&seconds))
      return Refused(where + "cut short");
    if (ClassSum(s.totals) > s.totals.requests)
      return Refused(where + "more answers than requests");
    if (seconds > static_cast<uint32_t>(kStatsWindowSeconds))
      return Refused(where + std::to_string(seconds) + " seconds, at most " +
                     std::to_string(kStatsWindowSeconds));
    uint64_t window_requests = 0;
    for (uint32_t k = 0; k < seconds; ++k) {
      CarriedSecond sec;
      uint32_t entries;
      if (!r.I64(&sec.second) || !GetCounters(r, &sec.counters) || !r.U32(&entries))
        return Refused(where + "cut short");
      if (sec.second < 0 || (!s.seconds.empty() && sec.second <= s.seconds.back().second))
        return Refused(where + "seconds out of order");
      if (ClassSum(sec.counters) > sec.counters.requests)
        return Refused(where + "more answers than requests in a second");
      if (entries > static_cast<uint32_t>(kLatencyBuckets))
        return Refused(where + "a histogram too long");
      uint64_t in_histogram = 0;
      for (uint32_t e = 0; e < entries; ++e) {
        uint16_t bucket;
        uint64_t n;
        if (!r.U16(&bucket) || !r.U64(&n)) return Refused(where + "cut short");
        if (bucket >= kLatencyBuckets ||
            (!sec.histogram.empty() && bucket <= sec.histogram.back().first) || n == 0)
          return Refused(where + "a bad histogram bucket");
        if (n > sec.counters.requests - in_histogram)
          return Refused(where + "more latencies than requests in a second");
        in_histogram += n;
        sec.histogram.emplace_back(bucket, n);
      }
      if (sec.counters.requests > s.totals.requests - window_requests)
        return Refused(where + "more requests in its seconds than in its totals");
      window_requests += sec.counters.requests;
      s.seconds.push_back(std::move(sec));
    }
    out.series.push_back(std::move(s));
    previous = &out.series.back();
  }
  if (!r.Done()) return Refused("bytes after the end");
  return out;
}

Result<int> WriteCarriedStatsFile(const CarriedStats& stats) {
  const std::string bytes = EncodeCarriedStats(stats);
  if (bytes.size() > kCarriedStatsLimit)
    return Error::Failed("statistics over " + std::to_string(kCarriedStatsLimit) +
                         " bytes: not carried over");
  int fd = ::memfd_create("lastgood-router-stats", MFD_CLOEXEC);
  if (fd < 0) return Error::Internal(std::string("memfd_create: ") + strerror(errno));
  size_t at = 0;
  while (at < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + at, bytes.size() - at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Error e = Error::Internal(std::string("writing the statistics: ") + strerror(errno));
      ::close(fd);
      return e;
    }
    at += static_cast<size_t>(n);
  }
  return fd;
}

Result<CarriedStats> ReadCarriedStatsFile(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return Refused("not a file");
  if (st.st_size < 0 || static_cast<uint64_t>(st.st_size) > kCarriedStatsLimit)
    return Refused("over " + std::to_string(kCarriedStatsLimit) + " bytes");
  std::string bytes(static_cast<size_t>(st.st_size), '\0');
  size_t at = 0;
  while (at < bytes.size()) {
    ssize_t n = ::pread(fd, bytes.data() + at, bytes.size() - at, static_cast<off_t>(at));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Refused("cut short while read");
    at += static_cast<size_t>(n);
  }
  return DecodeCarriedStats(bytes);
}

}  // namespace lastgood
