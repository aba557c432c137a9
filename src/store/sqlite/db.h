// Thin RAII wrappers over the SQLite C API, for the SQLite store only: Db owns a connection,
// Statement a prepared statement, Transaction a BEGIN … COMMIT that rolls back unless
// committed. SQLite's errors become Errors here, once: busy, locked, I/O, full, read-only,
// corrupt or not-a-database → Unavailable (the store cannot be used; nothing was changed);
// a constraint → Conflict; anything else → Internal.
//
// Thread-safety: none. A Db and everything made from it belong to one thread at a time (the
// store serializes callers with its mutex). Statements and Transactions must not outlive
// their Db.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace lastgood::sqlite {

// The Error for SQLite result code `rc` on `db` (which may be null), prefixed by `what`.
Error ToError(sqlite3* db, int rc, std::string_view what);

class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  ~Statement();

  // Binds parameter `i` (1-based). A nullopt binds NULL.
  void Bind(int i, int64_t value);
  void Bind(int i, int value) { Bind(i, static_cast<int64_t>(value)); }
  void Bind(int i, std::string_view value);
  void Bind(int i, const std::string& value) { Bind(i, std::string_view(value)); }
  void Bind(int i, const char* value) { Bind(i, std::string_view(value)); }
  void Bind(int i, std::optional<int> value);
  void Bind(int i, double value);

  // Steps once: true with a row to read, false when done.
  Result<bool> Step();
  // Steps to the end, for statements that return no rows.
  Status Run();

  int64_t Int(int column) const;
  std::string Text(int column) const;
  double Double(int column) const;
  bool IsNull(int column) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

class Db {
 public:
  // Opens (creating if missing) the database file at `path`. Reads nothing yet: a file that
  // is not a database shows itself on the first statement.
  static Result<Db> Open(const std::string& path);

  // Prepares `sql` and binds `args` to its parameters in order.
  template <typename... Args>
  Result<Statement> Prepare(std::string_view sql, const Args&... args) {
    sqlite3_stmt* stmt = nullptr;
    int rc =
        sqlite3_prepare_v2(db_.get(), sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
    if (rc != SQLITE_OK) return ToError(db_.get(), rc, "preparing a statement");
    Statement s(db_.get(), stmt);
    int i = 0;
    (s.Bind(++i, args), ...);
    return s;
  }
  // Runs one statement that returns no rows.
  template <typename... Args>
  Status Run(std::string_view sql, const Args&... args) {
    auto s = Prepare(sql, args...);
    if (!s.ok()) return s.error();
    return s->Run();
  }
  // The first column of the first row of `sql`, or nullopt without a row.
  template <typename... Args>
  Result<std::optional<int64_t>> QueryInt(std::string_view sql, const Args&... args) {
    auto s = Prepare(sql, args...);
    if (!s.ok()) return s.error();
    auto row = s->Step();
    if (!row.ok()) return row.error();
    if (!*row) return std::optional<int64_t>();
    return std::optional<int64_t>(s->Int(0));
  }
  // Runs `sql`, which may hold several statements and no parameters.
  Status Exec(const std::string& sql);

  int64_t LastInsertRowid() const { return sqlite3_last_insert_rowid(db_.get()); }
  int Changes() const { return sqlite3_changes(db_.get()); }
  // The primary result code of the last failed call (SQLITE_NOTADB, …).
  int LastErrorCode() const { return sqlite3_errcode(db_.get()); }
  sqlite3* get() const { return db_.get(); }

 private:
  struct Closer {
    void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
  };
  explicit Db(sqlite3* db) : db_(db) {}
  std::unique_ptr<sqlite3, Closer> db_;
};

// BEGIN IMMEDIATE for writers (takes the write lock up front, so a transaction never fails
// half-way on a lock it could not upgrade), plain BEGIN for readers.
class Transaction {
 public:
  enum Mode { kRead, kWrite };
  static Result<Transaction> Begin(Db& db, Mode mode);
  Transaction(Transaction&& other) noexcept : db_(other.db_), write_(other.write_) {
    other.db_ = nullptr;
  }
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();  // rolls back unless committed

  Status Commit();

 private:
  Transaction(Db* db, bool write) : db_(db), write_(write) {}
  Db* db_;      // null once committed or rolled back
  bool write_;  // a writer's COMMIT is timed (store/commit_latency.h)
};

}  // namespace lastgood::sqlite
