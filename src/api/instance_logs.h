// Instances' output as `lastgood logs` reads it (GET /v1/apps/{app}/logs), and when each
// piece of it was written.
//
// An instance writes its stdout and stderr straight to <logs>/<app>/<id>.out.log and
// .err.log (targets/local), and outlives the controller, so no writer of ours sees its lines
// go by. Instead the controller samples the size of every log file about once a second
// (SampleLogSizes) and appends (time, size) to <file>.idx when it grew: 16-byte records, so a
// time is found by binary search without reading the whole index. Bytes past a sample's size
// were written after that sample's time, so `--since T` starts each file at the size of its
// last sample at or before T: no line written after T is left out; lines written up to a
// sample earlier (or while no controller ran) may be shown too (docs/behaviour.md, "Logs").
//
// A read returns whole lines only (a line still being written waits for its newline, unless
// `partial` asks for it), at most `maxBytes` in all, and a cursor (file → offset) from which
// the next read goes on: how `-f` follows.
//
// Thread-safety: functions of their arguments and the files; SampleLogSizes's state belongs
// to its one caller (the controller's upkeep thread).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/result.h"
#include "store/store.h"

namespace lastgood {

// One request reads at most this much output.
inline constexpr uint64_t kMaxLogReadBytes = 1 << 20;
// `--tail`: at most this many lines of each file, found within its last this many bytes.
inline constexpr int kMaxTailLines = 100'000;
inline constexpr uint64_t kMaxTailScanBytes = 16 << 20;
// How often the controller samples log sizes.
inline constexpr int64_t kLogSampleMillis = 1000;
// An index holds at most this many samples (1 MiB, 18 hours of a file written every second):
// past it, every other one of its older half goes (--since is then less precise back then).
inline constexpr size_t kMaxLogIndexRecords = 65536;

struct LogFilter {
  std::string slot;      // "" = any
  int version = 0;       // 0 = any
  std::string instance;  // "" = any
};

struct LogFile {
  std::string instance;  // "web-production-v3-a1b2"
  std::string stream;    // "out" or "err"
  std::string path;
  // Its name in a cursor: 10 hex digits of a hash (FNV-1a) of "instance.stream", the same in
  // every build, so that a cursor over a fleet's hundreds of files fits in a request line
  // (a full name takes ~45 bytes; the API reads at most 16 KiB of a request's head).
  std::string key() const;
};

// The log files of `app`'s instances under `logs_root` that pass `filter`: those of the
// instances the store lists (running, warm, starting); with a version or an instance named,
// also those of instances that have stopped since (their files stay).
std::vector<LogFile> FindLogFiles(const std::string& logs_root, const std::string& app,
                                  const std::vector<InstanceRecord>& instances,
                                  const LogFilter& filter);

// The slot and version of instance `id` of `app`, whose slot is one of `slots` (the app's
// slot names): ids are "<app>-<slot>-v<version>-<rest>", where rest is a suffix, or on a
// fleet host "<host>-<suffix>" (so neither the slot nor the rest can be told from dashes
// alone). False for an id of another app or of no such slot.
bool MatchInstanceId(const std::string& app, const std::vector<std::string>& slots,
                     const std::string& id, std::string* slot, int* version);

// On a fleet host: the log files in `dir`, where its node's instances of every app write side
// by side, of `app`'s instances in `running` that pass `filter`; with a version or an instance
// named, also those of `app`'s instances that have stopped since. Ids are read with
// MatchInstanceId(app, slots, …).
std::vector<LogFile> FindHostLogFiles(const std::string& dir, const std::string& app,
                                      const std::vector<std::string>& slots,
                                      const std::vector<std::string>& running,
                                      const LogFilter& filter);

struct LogChunk {
  std::string instance;
  std::string stream;
  std::string text;  // whole lines, each ending in '\n' (the last one maybe not, if partial)
};

struct LogRead {
  std::vector<LogChunk> chunks;
  std::map<std::string, uint64_t> cursor;  // LogFile::key() → the offset read up to
  bool more = false;                       // a file has more than this read took
};

// Reads `files` from `cursor` (a file missing from it: from the start, or with `since_millis`
// > 0 from its size at that time; with `tail_lines` > 0, from where its last that many lines
// begin, if that is later).
LogRead ReadLogs(const std::vector<LogFile>& files, const std::map<std::string, uint64_t>& cursor,
                 int64_t since_millis, uint64_t max_bytes, bool partial, int tail_lines = 0);

// Records, for every log file under `logs_root` whose size changed since `*last` says, its
// size now at `now_millis` in its index (thinned past `max_records`).
void SampleLogSizes(const std::string& logs_root, int64_t now_millis,
                    std::map<std::string, uint64_t>* last,
                    size_t max_records = kMaxLogIndexRecords);

// The same for the log files directly in `dir` (a node's logs folder).
void SampleLogSizesIn(const std::string& dir, int64_t now_millis,
                      std::map<std::string, uint64_t>* last,
                      size_t max_records = kMaxLogIndexRecords);

// "3f2a9c01b7:120,9e11c0d4a2:7" (LogFile::key() → offset) and back: a cursor in a query
// string. A file at offset 0 is left out (a file not in a cursor is read from its start, or
// from `since`: the CLI sends a cursor or a since, never both), which keeps the cursor of a
// fleet's instances — whose .err.log files are mostly empty — to ~22 bytes an instance.
std::string FormatLogCursor(const std::map<std::string, uint64_t>& cursor);
Result<std::map<std::string, uint64_t>> ParseLogCursor(const std::string& text);

}  // namespace lastgood
