#include "platform/sqlite.h"

#include <sqlite3.h>

namespace outpost::db {

namespace {
[[noreturn]] void fail(sqlite3* db, int rc, std::string_view what) {
  std::string message(what);
  message += ": ";
  message += db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  const int primary = rc & 0xff;
  if (primary == SQLITE_FULL) message += " (the disk is full: free some space and try again)";
  throw SqliteError(rc, message);
}
}  // namespace

bool SqliteError::is_disk_full() const {
  const int primary = code_ & 0xff;
  return primary == SQLITE_FULL || primary == SQLITE_IOERR;
}

bool SqliteError::is_busy() const {
  const int primary = code_ & 0xff;
  return primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
}

// --- Statement

Statement::Statement(sqlite3* db, std::string_view sql) : db_(db) {
  const int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                                    &stmt_, nullptr);
  if (rc != SQLITE_OK) fail(db, rc, "preparing SQL `" + std::string(sql.substr(0, 80)) + "`");
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

void Statement::check(int rc) const {
  if (rc != SQLITE_OK) fail(db_, rc, "binding a value");
}

Statement& Statement::bind(int index, int64_t value) {
  check(sqlite3_bind_int64(stmt_, index, value));
  return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
  check(sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
  return *this;
}

Statement& Statement::bind(int index, const std::optional<std::string>& value) {
  return value ? bind(index, std::string_view(*value)) : bind(index, nullptr);
}

Statement& Statement::bind(int index, std::nullptr_t) {
  check(sqlite3_bind_null(stmt_, index));
  return *this;
}

Statement& Statement::bind_blob(int index, const void* data, size_t size) {
  check(sqlite3_bind_blob64(stmt_, index, data, size, SQLITE_TRANSIENT));
  return *this;
}

bool Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  const char* sql = sqlite3_sql(stmt_);
  std::string what = "running SQL `" + std::string(sql ? sql : "").substr(0, 80) + "`";
  sqlite3_reset(stmt_);
  fail(db_, rc, what);
}

void Statement::run() {
  while (step()) {
  }
}

void Statement::reset_if_busy() {
  if (sqlite3_stmt_busy(stmt_)) sqlite3_reset(stmt_);
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

int64_t Statement::int64(int column) const { return sqlite3_column_int64(stmt_, column); }

double Statement::real(int column) const { return sqlite3_column_double(stmt_, column); }

std::string Statement::text(int column) const {
  const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  return data ? std::string(data, static_cast<size_t>(sqlite3_column_bytes(stmt_, column))) : std::string();
}

std::optional<std::string> Statement::optional_text(int column) const {
  if (is_null(column)) return std::nullopt;
  return text(column);
}

bool Statement::is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

// --- Database

Database::Database(const std::string& path, OpenMode mode) : path_(path) {
  int flags = SQLITE_OPEN_NOMUTEX;
  switch (mode) {
    case OpenMode::ReadWriteCreate: flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE; break;
    case OpenMode::ReadWrite: flags |= SQLITE_OPEN_READWRITE; break;
    case OpenMode::ReadOnly: flags |= SQLITE_OPEN_READONLY; break;
  }
  const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = "cannot open database " + path + ": " + (db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc));
    sqlite3_close(db_);
    db_ = nullptr;
    throw SqliteError(rc, message);
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, 10000);
  try {
    if (mode != OpenMode::ReadOnly) {
      exec("PRAGMA journal_mode=WAL");
      exec("PRAGMA synchronous=NORMAL");
      // Checkpoint every 32 MiB of log rather than every 4 MiB: a sync's pages are rewritten
      // batch after batch, and fewer, larger checkpoints copy each of them back once.
      exec("PRAGMA wal_autocheckpoint=8000");
    }
    exec("PRAGMA foreign_keys=ON");
    // Reads straight from the mapped file instead of copying every page through read(). The
    // page cache then mostly holds pages written in the open transaction: SQLite's default of
    // 2 MB holds a sync batch's, and a larger one only grew (page faults and all) with no gain.
    exec("PRAGMA mmap_size=268435456");
    exec("PRAGMA cache_size=-2000");
    // Fail now, with a clear message, if the file is not a database at all.
    query_int("SELECT count(*) FROM sqlite_master");
  } catch (...) {
    cache_.clear();
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

Database::~Database() {
  by_address_.clear();
  cache_.clear();
  sqlite3_close(db_);
}

void Database::exec(const std::string& sql) {
  char* error = nullptr;
  const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error);
  if (rc != SQLITE_OK) {
    std::string message = "running SQL `" + sql.substr(0, 80) + "` on " + path_ + ": " + (error ? error : "");
    sqlite3_free(error);
    if ((rc & 0xff) == SQLITE_FULL) message += " (the disk is full: free some space and try again)";
    throw SqliteError(rc, message);
  }
}

Statement& Database::prepare(const char* sql) {
  auto it = by_address_.find(sql);
  if (it == by_address_.end()) it = by_address_.emplace(sql, &prepare(std::string(sql))).first;
  it->second->reset();
  return *it->second;
}

Statement& Database::prepare(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) it = cache_.emplace(sql, std::make_unique<Statement>(db_, sql)).first;
  it->second->reset();
  return *it->second;
}

void Database::reset_open_statements() {
  for (auto& [sql, statement] : cache_) statement->reset_if_busy();
}

int64_t Database::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }

int Database::changes() const { return sqlite3_changes(db_); }

std::string Database::integrity_check() {
  Statement statement(db_, "PRAGMA integrity_check");
  std::string result;
  while (statement.step()) {
    if (!result.empty()) result += "; ";
    result += statement.text(0);
  }
  return result;
}

std::optional<std::string> Database::query_text(const std::string& sql) {
  Statement statement(db_, sql);
  if (!statement.step()) return std::nullopt;
  return statement.optional_text(0);
}

int64_t Database::query_int(const std::string& sql) {
  Statement statement(db_, sql);
  return statement.step() ? statement.int64(0) : 0;
}

// --- Transaction

Transaction::Transaction(Database& db, Kind kind) : db_(db) {
  db_.reset_open_statements();
  db_.exec(kind == Kind::Immediate ? "BEGIN IMMEDIATE" : "BEGIN");
}

Transaction::~Transaction() noexcept {
  if (done_) return;
  db_.reset_open_statements();
  // Rolling back can only fail if the connection is already broken; nothing more to do then.
  sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit() {
  db_.reset_open_statements();
  db_.exec("COMMIT");
  done_ = true;
}

}  // namespace outpost::db
