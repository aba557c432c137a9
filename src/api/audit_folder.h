// AuditFolder: keeps the audit bounded under abuse (issue 11 A4). A refusal (401, 403) is a
// row of the audit; repeated refusals from one address, of one actor and status, within
// kFoldWindow of the row's first are counted into that row instead of each being a row of
// their own; and at most kMaxNewRefusalRowsPerSecond new rows a second are made at all. The count
// is written at most once every kFoldWriteInterval per row (and by Flush), so a flood of bad
// requests is neither a flood of rows nor of synced writes.
//
// Thread-safe: every method takes the one mutex.
#pragma once

#include <climits>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include "store/store.h"

namespace lastgood {

inline constexpr int64_t kFoldWindowMillis = 60'000;
inline constexpr int64_t kFoldWriteIntervalMillis = 1000;
// Rows being counted into at once, at most; past it the oldest is written and let go.
inline constexpr size_t kMaxOpenFolds = 10'000;
// New refusal rows a second, at most, however many addresses send them; past it, refusals
// are counted into one row whose address is kManyAddresses.
inline constexpr int kMaxNewRefusalRowsPerSecond = 20;
inline constexpr char kManyAddresses[] = "(many addresses)";

// "127.0.0.1" of "127.0.0.1:5555", "[::1]" of "[::1]:5555"; anything else as it is.
std::string AddressOf(const std::string& from);

class AuditFolder {
 public:
  explicit AuditFolder(Store* store) : store_(store) {}
  ~AuditFolder() { Flush(INT64_MAX); }

  // Records a refusal: counted into the open row of the same address, actor and status, or
  // appended as a row of its own. Returns the store's error, if any.
  Status Refused(const AuditEntry& entry);
  // Writes every count not written yet, and lets go of the rows whose window ended by `now`.
  void Flush(int64_t now);

 private:
  struct Fold {
    int64_t id = 0;
    int64_t started = 0;  // the row's `at`
    int64_t count = 1;
    int64_t written = 1;  // the count the row has in the store
    int64_t lastAt = 0;
    int64_t lastWrite = 0;
  };
  using Key = std::tuple<std::string, std::string, int>;  // address, actor, status

  Status Write(Fold& fold);  // REQUIRES: mu_ held

  Store* const store_;
  std::mutex mu_;
  std::map<Key, Fold> open_;  // GUARDED_BY(mu_)
  int64_t second_ = 0;        // GUARDED_BY(mu_): the second rows_in_second_ counts
  int rows_in_second_ = 0;    // GUARDED_BY(mu_)
};

}  // namespace lastgood
