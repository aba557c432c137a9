#include "store/sqlite/db.h"

#include <chrono>
#include <utility>

#include "store/commit_latency.h"

namespace lastgood::sqlite {

Error ToError(sqlite3* db, int rc, std::string_view what) {
  std::string detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string message = std::string(what) + ": " + detail;
  switch (rc & 0xff) {  // the primary code of an extended one
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Error::Unavailable(message + " (another process holds the store; try again)");
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_PERM:
      return Error::Unavailable(message);
    case SQLITE_CONSTRAINT:
      return Error::Conflict(message);
    default:
      return Error::Internal(message);
  }
}

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)) {}

Statement::~Statement() { sqlite3_finalize(stmt_); }

// Bind only fails on a bad index or out of memory, both bugs; Step then reports them.
void Statement::Bind(int i, int64_t value) { sqlite3_bind_int64(stmt_, i, value); }

void Statement::Bind(int i, std::string_view value) {
  sqlite3_bind_text64(stmt_, i, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
}

void Statement::Bind(int i, std::optional<int> value) {
  if (value) {
    Bind(i, *value);
  } else {
    sqlite3_bind_null(stmt_, i);
  }
}

Result<bool> Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return ToError(db_, rc, "store");
}

Status Statement::Run() {
  while (true) {
    auto row = Step();
    if (!row.ok()) return row.error();
    if (!*row) return Status::Ok();
  }
}

int64_t Statement::Int(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string Statement::Text(int column) const {
  auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  if (text == nullptr) return "";
  return std::string(text, sqlite3_column_bytes(stmt_, column));
}

double Statement::Double(int column) const { return sqlite3_column_double(stmt_, column); }

void Statement::Bind(int i, double value) { sqlite3_bind_double(stmt_, i, value); }

bool Statement::IsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

Result<Db> Db::Open(const std::string& path) {
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_EXRESCODE, nullptr);
  Db db(raw);  // closes `raw` even when the open failed
  if (rc != SQLITE_OK) return ToError(raw, rc, "cannot open the store at " + path);
  return db;
}

Status Db::Exec(const std::string& sql) {
  char* message = nullptr;
  int rc = sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, &message);
  sqlite3_free(message);  // the same text as sqlite3_errmsg, which ToError reads
  if (rc != SQLITE_OK) return ToError(db_.get(), rc, "store");
  return Status::Ok();
}

Result<Transaction> Transaction::Begin(Db& db, Mode mode) {
  LG_RETURN_IF_ERROR(db.Exec(mode == kWrite ? "BEGIN IMMEDIATE" : "BEGIN"));
  return Transaction(&db, mode == kWrite);
}

Transaction::~Transaction() {
  if (db_ != nullptr) (void)db_->Exec("ROLLBACK");
}

Status Transaction::Commit() {
  Db* db = std::exchange(db_, nullptr);
  const auto started = std::chrono::steady_clock::now();
  Status s = db->Exec("COMMIT");
  if (write_ && s.ok()) RecordCommitLatency(std::chrono::steady_clock::now() - started);
  if (!s.ok()) (void)db->Exec("ROLLBACK");  // a failed COMMIT may leave the transaction open
  return s;
}

}  // namespace lastgood::sqlite
