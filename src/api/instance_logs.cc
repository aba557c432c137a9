#include "api/instance_logs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>
#include <vector>

namespace lastgood {
namespace {

namespace fs = std::filesystem;

constexpr char kOutSuffix[] = ".out.log";
constexpr char kErrSuffix[] = ".err.log";

struct IndexRecord {
  int64_t millis;
  uint64_t size;
};
static_assert(sizeof(IndexRecord) == 16);

bool EndsWith(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// The slot and version of an instance id "<app>-<slot>-v<version>-<suffix>", if it is one.
bool ParseInstanceId(const std::string& app, const std::string& id, std::string* slot,
                     int* version) {
  if (id.rfind(app + "-", 0) != 0) return false;
  std::string rest = id.substr(app.size() + 1);
  size_t last = rest.rfind('-');
  if (last == std::string::npos || last == 0) return false;
  size_t before = rest.rfind('-', last - 1);
  if (before == std::string::npos || before == 0) return false;
  std::string number = rest.substr(before + 1, last - before - 1);
  if (!number.empty() && number[0] == 'v') number.erase(0, 1);  // "web-production-v3-a1b2"
  if (number.empty() || number.size() > 9 ||
      !std::all_of(number.begin(), number.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  *slot = rest.substr(0, before);
  *version = std::stoi(number);
  return true;
}

bool Passes(const LogFilter& f, const std::string& id, const std::string& slot, int version) {
  return (f.slot.empty() || f.slot == slot) && (f.version == 0 || f.version == version) &&
         (f.instance.empty() || f.instance == id);
}

// The size the file had at its last sample at or before `millis` (0 if none).
uint64_t SizeAt(const std::string& log_path, int64_t millis) {
  int fd = ::open((log_path + ".idx").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  struct stat st;
  uint64_t found = 0;
  if (::fstat(fd, &st) == 0) {
    int64_t lo = 0, hi = st.st_size / static_cast<int64_t>(sizeof(IndexRecord));
    while (lo < hi) {  // the first record later than `millis`
      int64_t mid = lo + (hi - lo) / 2;
      IndexRecord r{};
      if (::pread(fd, &r, sizeof r, mid * static_cast<int64_t>(sizeof r)) !=
          static_cast<ssize_t>(sizeof r))
        break;
      if (r.millis <= millis) {
        lo = mid + 1;
        found = r.size;
      } else {
        hi = mid;
      }
    }
  }
  ::close(fd);
  return found;
}

// Halves the records of an index grown past `max_records`: the newer half stays as it is,
// every other one of the older half goes. Fewer samples only move a --since start earlier
// (more is shown, never less), and an index stays bounded however long a file is written to.
void ThinIndex(const std::string& idx, size_t max_records) {
  int fd = ::open(idx.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return;
  struct stat st;
  std::vector<IndexRecord> records;
  if (::fstat(fd, &st) == 0 &&
      static_cast<size_t>(st.st_size) / sizeof(IndexRecord) > max_records) {
    records.resize(static_cast<size_t>(st.st_size) / sizeof(IndexRecord));
    ssize_t want = static_cast<ssize_t>(records.size() * sizeof(IndexRecord));
    if (::pread(fd, records.data(), static_cast<size_t>(want), 0) != want) records.clear();
  }
  ::close(fd);
  if (records.empty()) return;
  std::vector<IndexRecord> kept;
  size_t older = records.size() / 2;
  for (size_t i = 0; i < records.size(); ++i) {
    if (i >= older || i % 2 == 1) kept.push_back(records[i]);
  }
  std::string tmp = idx + ".tmp";
  int out = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (out < 0) return;
  ssize_t bytes = static_cast<ssize_t>(kept.size() * sizeof(IndexRecord));
  bool ok = ::write(out, kept.data(), static_cast<size_t>(bytes)) == bytes;
  ::close(out);
  if (!ok || ::rename(tmp.c_str(), idx.c_str()) != 0) ::unlink(tmp.c_str());
}

// The out and err files in `dir` of the instances `ids`, those that exist.
std::vector<LogFile> FilesOf(const std::string& dir, const std::set<std::string>& ids) {
  std::vector<LogFile> files;
  for (const auto& id : ids) {
    for (const char* stream : {"out", "err"}) {
      std::string path = dir + "/" + id + (stream[0] == 'o' ? kOutSuffix : kErrSuffix);
      std::error_code ec;
      if (fs::is_regular_file(path, ec)) files.push_back({id, stream, path});
    }
  }
  return files;
}

// The instance ids of the .out.log files in `dir`.
std::vector<std::string> IdsIn(const std::string& dir) {
  std::vector<std::string> ids;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    if (EndsWith(name, kOutSuffix))
      ids.push_back(name.substr(0, name.size() - std::strlen(kOutSuffix)));
  }
  return ids;
}

// Where the last `lines` lines of the file (`fd`, `size` bytes) begin: the last line without
// its newline is one of them only when `partial` shows it. Looks back at most
// kMaxTailScanBytes: lines that begin further back are cut there.
uint64_t TailStart(int fd, uint64_t size, int lines, bool partial) {
  if (size == 0) return 0;
  char last = '\n';
  if (::pread(fd, &last, 1, static_cast<off_t>(size - 1)) != 1) return 0;
  // The newline after which the wanted lines begin, counted from the end: the file's last
  // newline ends its last whole line.
  int wanted = lines + 1 - (last != '\n' && partial ? 1 : 0);
  const uint64_t floor = size > kMaxTailScanBytes ? size - kMaxTailScanBytes : 0;
  std::string block;
  for (uint64_t end = size; end > floor;) {
    uint64_t begin = std::max<uint64_t>(floor, end >= (64 << 10) ? end - (64 << 10) : 0);
    block.resize(end - begin);
    ssize_t n = ::pread(fd, block.data(), block.size(), static_cast<off_t>(begin));
    if (n != static_cast<ssize_t>(block.size())) return floor;
    for (size_t i = block.size(); i-- > 0;) {
      if (block[i] == '\n' && --wanted == 0) return begin + i + 1;
    }
    end = begin;
  }
  return floor;
}

}  // namespace

std::string LogFile::key() const {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : instance + "." + stream) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char out[11];
  std::snprintf(out, sizeof out, "%010llx", static_cast<unsigned long long>(h >> 24));
  return out;
}

std::vector<LogFile> FindLogFiles(const std::string& logs_root, const std::string& app,
                                  const std::vector<InstanceRecord>& instances,
                                  const LogFilter& filter) {
  std::set<std::string> ids;
  for (const auto& rec : instances) {
    if (Passes(filter, rec.id, rec.slot, rec.version)) ids.insert(rec.id);
  }
  const std::string dir = logs_root + "/" + app;
  if (filter.version != 0 || !filter.instance.empty()) {
    for (const auto& id : IdsIn(dir)) {
      std::string slot;
      int version = 0;
      if (ParseInstanceId(app, id, &slot, &version) && Passes(filter, id, slot, version))
        ids.insert(id);
    }
  }
  return FilesOf(dir, ids);
}

bool MatchInstanceId(const std::string& app, const std::vector<std::string>& slots,
                     const std::string& id, std::string* slot, int* version) {
  size_t best = 0;
  for (const auto& s : slots) {
    const std::string prefix = app + "-" + s + "-v";
    if (s.empty() || id.rfind(prefix, 0) != 0 || prefix.size() <= best) continue;
    size_t end = prefix.size();
    while (end < id.size() && end - prefix.size() < 9 && id[end] >= '0' && id[end] <= '9') ++end;
    if (end == prefix.size() || end + 1 >= id.size() || id[end] != '-') continue;
    best = prefix.size();
    *slot = s;
    *version = std::stoi(id.substr(prefix.size(), end - prefix.size()));
  }
  return best > 0;
}

std::vector<LogFile> FindHostLogFiles(const std::string& dir, const std::string& app,
                                      const std::vector<std::string>& slots,
                                      const std::vector<std::string>& running,
                                      const LogFilter& filter) {
  std::set<std::string> ids;
  auto consider = [&](const std::string& id) {
    std::string slot;
    int version = 0;
    if (MatchInstanceId(app, slots, id, &slot, &version) && Passes(filter, id, slot, version))
      ids.insert(id);
  };
  for (const auto& id : running) consider(id);
  if (filter.version != 0 || !filter.instance.empty()) {
    for (const auto& id : IdsIn(dir)) consider(id);
  }
  return FilesOf(dir, ids);
}

LogRead ReadLogs(const std::vector<LogFile>& files, const std::map<std::string, uint64_t>& cursor,
                 int64_t since_millis, uint64_t max_bytes, bool partial, int tail_lines) {
  LogRead out;
  // Each file gets its share of the budget, so that one chatty instance does not hide others.
  const uint64_t share =
      files.empty() ? max_bytes : std::max<uint64_t>(max_bytes / files.size(), 64 << 10);
  uint64_t left = max_bytes;
  for (const auto& f : files) {
    uint64_t from = 0;
    if (auto it = cursor.find(f.key()); it != cursor.end()) {
      from = it->second;
    } else if (since_millis > 0) {
      from = SizeAt(f.path, since_millis);
    }
    out.cursor[f.key()] = from;
    int fd = ::open(f.path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) continue;
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      ::close(fd);
      continue;
    }
    uint64_t size = static_cast<uint64_t>(st.st_size);
    if (from > size) from = 0;  // truncated or replaced: from its start again
    if (tail_lines > 0 && !cursor.count(f.key()))
      from = std::max(from, TailStart(fd, size, tail_lines, partial));
    uint64_t want = std::min({size - from, share, left});
    std::string text(want, '\0');
    ssize_t n = want > 0 ? ::pread(fd, text.data(), want, static_cast<off_t>(from)) : 0;
    ::close(fd);
    text.resize(n > 0 ? static_cast<size_t>(n) : 0);
    bool whole_file = from + text.size() == size;
    if (!(partial && whole_file)) {
      size_t end = text.rfind('\n');
      // A line longer than the whole share is cut where the share ends, not withheld forever.
      if (end == std::string::npos && text.size() < share) {
        text.clear();
      } else if (end != std::string::npos) {
        text.resize(end + 1);
      }
    }
    // More than the budget let this read try: ask again at once. (A last line without its
    // newline is not "more": it waits for the writer.)
    if (size - from > want) out.more = true;
    out.cursor[f.key()] = from + text.size();
    left -= std::min<uint64_t>(left, text.size());
    if (!text.empty()) out.chunks.push_back({f.instance, f.stream, std::move(text)});
  }
  return out;
}

void SampleLogSizesIn(const std::string& dir, int64_t now_millis,
                      std::map<std::string, uint64_t>* last, size_t max_records) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string path = e.path().string();
    if (!EndsWith(path, kOutSuffix) && !EndsWith(path, kErrSuffix)) continue;
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    uint64_t size = static_cast<uint64_t>(st.st_size);
    auto it = last->find(path);
    if (it != last->end() && it->second == size) continue;
    (*last)[path] = size;
    int fd = ::open((path + ".idx").c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
                    0600);
    if (fd < 0) continue;
    IndexRecord r{now_millis, size};
    (void)!::write(fd, &r, sizeof r);
    ::close(fd);
    ThinIndex(path + ".idx", max_records);
  }
}

void SampleLogSizes(const std::string& logs_root, int64_t now_millis,
                    std::map<std::string, uint64_t>* last, size_t max_records) {
  std::error_code ec;
  for (const auto& app : fs::directory_iterator(logs_root, ec)) {
    std::error_code ec2;
    if (app.is_directory(ec2)) SampleLogSizesIn(app.path().string(), now_millis, last, max_records);
  }
}

std::string FormatLogCursor(const std::map<std::string, uint64_t>& cursor) {
  std::string out;
  for (const auto& [key, offset] : cursor) {
    if (offset == 0) continue;  // read from its start anyway: most .err.log files stay empty
    if (!out.empty()) out += ",";
    out += key + ":" + std::to_string(offset);
  }
  return out;
}

Result<std::map<std::string, uint64_t>> ParseLogCursor(const std::string& text) {
  std::map<std::string, uint64_t> cursor;
  size_t at = 0;
  while (at < text.size()) {
    size_t comma = text.find(',', at);
    std::string item = text.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    size_t colon = item.rfind(':');
    std::string number = colon == std::string::npos ? "" : item.substr(colon + 1);
    if (colon == 0 || number.empty() || number.size() > 15 ||
        !std::all_of(number.begin(), number.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return Error::InvalidInput("'cursor' is not a cursor a logs answer gave", "cursor");
    cursor[item.substr(0, colon)] = std::stoull(number);
    if (cursor.size() > 10'000)
      return Error::InvalidInput("'cursor' names too many files", "cursor");
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  return cursor;
}

}  // namespace lastgood
