// Small RAII wrapper over SQLite in the spirit of SQLiteCpp: a Database that owns the
// connection and caches prepared statements, a Statement with typed binds and columns, and a
// Transaction that commits only when told and rolls back in its noexcept destructor.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>

struct sqlite3;
struct sqlite3_stmt;

namespace outpost::db {

class SqliteError : public std::runtime_error {
 public:
  SqliteError(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
  int code() const { return code_; }
  // SQLITE_FULL or an I/O error while writing: the device is out of space or its storage failed.
  bool is_disk_full() const;
  bool is_busy() const;

 private:
  int code_;
};

class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Binds are 1-based, as in SQLite. Each returns *this so calls chain.
  Statement& bind(int index, int64_t value);
  Statement& bind(int index, int value) { return bind(index, static_cast<int64_t>(value)); }
  Statement& bind(int index, std::string_view value);
  Statement& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
  Statement& bind(int index, const std::string& value) { return bind(index, std::string_view(value)); }
  Statement& bind(int index, const std::optional<std::string>& value);
  Statement& bind(int index, std::nullptr_t);
  Statement& bind_blob(int index, const void* data, size_t size);

  // True while a row is available; false when done.
  bool step();
  // Runs a statement that returns no rows.
  void run();
  void reset();
  void reset_if_busy();

  int64_t int64(int column) const;
  double real(int column) const;
  std::string text(int column) const;
  std::optional<std::string> optional_text(int column) const;
  bool is_null(int column) const;

 private:
  void check(int rc) const;
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

enum class OpenMode { ReadWriteCreate, ReadWrite, ReadOnly };

class Database {
 public:
  // Opens (or creates) the file in WAL mode with synchronous=NORMAL: durable across a killed
  // process, and gentle on SD cards. ":memory:" works for tests.
  explicit Database(const std::string& path, OpenMode mode = OpenMode::ReadWriteCreate);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  void exec(const std::string& sql);
  // A cached prepared statement, reset and with its bindings cleared. Do not hold two
  // references to the same SQL text at once. A string literal is found by its address, so the
  // hot paths pay no string comparison.
  Statement& prepare(const char* sql);
  Statement& prepare(const std::string& sql);
  int64_t last_insert_rowid() const;
  int changes() const;
  const std::string& path() const { return path_; }
  // Resets every statement still in the middle of its rows. A one-row lookup leaves its
  // statement open, and an open statement pins an old read snapshot: once another process
  // writes, this connection could never start a write transaction again.
  void reset_open_statements();
  // "ok" when the file is sound; otherwise SQLite's own description of the damage.
  std::string integrity_check();
  // Single-value helpers for schema and meta queries.
  std::optional<std::string> query_text(const std::string& sql);
  int64_t query_int(const std::string& sql);

  sqlite3* handle() { return db_; }

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
  std::map<std::string, std::unique_ptr<Statement>, std::less<>> cache_;
  std::unordered_map<const char*, Statement*> by_address_;
};

class Transaction {
 public:
  enum class Kind { Deferred, Immediate };
  explicit Transaction(Database& db, Kind kind = Kind::Immediate);
  ~Transaction() noexcept;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  Database& db_;
  bool done_ = false;
};

}  // namespace outpost::db
