#include "store/backup.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>

#include "store/sqlite/schema.h"

namespace lastgood {
namespace {

namespace fs = std::filesystem;

struct Closer {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Handle = std::unique_ptr<sqlite3, Closer>;

Result<Handle> OpenFile(const std::string& path, int flags) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Handle h(raw);
  if (rc != SQLITE_OK) {
    return Error::Unavailable("cannot open " + path + ": " +
                              (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  sqlite3_busy_timeout(raw, 5000);
  return h;
}

Result<int64_t> Pragma(sqlite3* db, const std::string& sql, std::string* text = nullptr) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    return Error::Unavailable(sqlite3_errmsg(db));
  }
  int rc = sqlite3_step(stmt);
  int64_t v = 0;
  if (rc == SQLITE_ROW) {
    v = sqlite3_column_int64(stmt, 0);
    if (text && sqlite3_column_text(stmt, 0))
      *text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  }
  std::string err = rc == SQLITE_ROW || rc == SQLITE_DONE ? "" : sqlite3_errmsg(db);
  sqlite3_finalize(stmt);
  if (!err.empty()) return Error::Unavailable(err);
  return v;
}

// Copies database `from` into `to` page by page (a consistent snapshot of `from`).
Status Copy(sqlite3* from, sqlite3* to) {
  sqlite3_backup* b = sqlite3_backup_init(to, "main", from, "main");
  if (!b) return Error::Unavailable(std::string("backup failed: ") + sqlite3_errmsg(to));
  int rc = sqlite3_backup_step(b, -1);
  sqlite3_backup_finish(b);
  if (rc != SQLITE_DONE)
    return Error::Unavailable(std::string("backup failed: ") + sqlite3_errstr(rc));
  return Status::Ok();
}

// An intact lastgood store of a schema this binary knows.
Status CheckSnapshot(sqlite3* db, const std::string& path) {
  auto id = Pragma(db, "PRAGMA application_id");
  if (!id.ok() || *id != sqlite::kApplicationId) {
    return Error::InvalidInput(path + " is not a lastgood store");
  }
  auto version = Pragma(db, "PRAGMA user_version");
  if (!version.ok()) return version.error();
  if (*version > sqlite::CurrentSchemaVersion()) {
    return Error::InvalidInput(
        path + " has schema version " + std::to_string(*version) + ", newer than this lastgood (" +
        std::to_string(sqlite::CurrentSchemaVersion()) + "); restore it with a newer lastgood");
  }
  std::string verdict;
  auto check = Pragma(db, "PRAGMA integrity_check", &verdict);
  if (!check.ok() || verdict != "ok") {
    return Error::InvalidInput(path + " is damaged (integrity check: " +
                               (check.ok() ? verdict : check.error().message) + ")");
  }
  return Status::Ok();
}

// Writes a snapshot of `src` to a new file `tmp` (one self-contained file: no -wal beside
// it), checking the copy if `check`; `tmp` is removed again on failure.
Status SnapshotInto(sqlite3* src, const std::string& tmp, bool check) {
  std::error_code ec;
  fs::remove(tmp, ec);
  Status result = [&]() -> Status {
    // A backup holds the whole history and the sealed secrets: readable by its owner only,
    // from its first byte (SQLite keeps an existing file's mode; its journal takes it too).
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return Error::Unavailable("cannot create " + tmp + ": " + strerror(errno));
    bool owner_only = ::fchmod(fd, 0600) == 0;  // whatever the umask
    ::close(fd);
    if (!owner_only)
      return Error::Unavailable("cannot make " + tmp + " private: " + strerror(errno));
    auto dst = OpenFile(tmp, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    if (!dst.ok()) return dst.error();
    LG_RETURN_IF_ERROR(Copy(src, dst->get()));
    (void)Pragma(dst->get(), "PRAGMA journal_mode = DELETE");
    if (check) return CheckSnapshot(dst->get(), tmp);
    return Status::Ok();
  }();
  if (!result.ok()) fs::remove(tmp, ec);
  return result;
}

}  // namespace

Status BackupStore(const std::string& db_path, const std::string& file) {
  std::error_code ec;
  if (fs::exists(file, ec)) {
    return Error::InvalidInput(file + " exists; a backup never overwrites a file, choose another");
  }
  if (!fs::exists(db_path, ec)) return Error::NotFound("there is no store at " + db_path);
  auto src = OpenFile(db_path, SQLITE_OPEN_READONLY);
  if (!src.ok()) return src.error();
  LG_RETURN_IF_ERROR(CheckSnapshot(src->get(), db_path));
  const std::string tmp = file + ".partial";
  LG_RETURN_IF_ERROR(SnapshotInto(src->get(), tmp, /*check=*/true));
  fs::rename(tmp, file, ec);
  if (ec) return Error::Unavailable("cannot write " + file + ": " + ec.message());
  return Status::Ok();
}

Status RestoreStore(const std::string& file, const std::string& db_path) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) return Error::NotFound("there is no file " + file);
  auto src = OpenFile(file, SQLITE_OPEN_READONLY);
  if (!src.ok()) return Error::InvalidInput(src.error().message);
  LG_RETURN_IF_ERROR(CheckSnapshot(src->get(), file));
  const std::string tmp = db_path + ".restoring";
  LG_RETURN_IF_ERROR(SnapshotInto(src->get(), tmp, /*check=*/false));
  if (fs::exists(db_path, ec)) {
    // Fold the old store's WAL in, so that the kept copy is whole, then keep it.
    if (auto old = OpenFile(db_path, SQLITE_OPEN_READWRITE); old.ok()) {
      (void)Pragma(old->get(), "PRAGMA wal_checkpoint(TRUNCATE)");
    }
    std::string kept = db_path + ".before-restore." + std::to_string(::time(nullptr));
    fs::rename(db_path, kept, ec);
    if (ec) {
      fs::remove(tmp, ec);
      return Error::Unavailable("cannot move the current store aside: " + ec.message());
    }
  }
  fs::remove(db_path + "-wal", ec);
  fs::remove(db_path + "-shm", ec);
  fs::rename(tmp, db_path, ec);
  if (ec) return Error::Unavailable("cannot put the restored store in place: " + ec.message());
  return Status::Ok();
}

}  // namespace lastgood
