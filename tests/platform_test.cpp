#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>

#include "platform/compress.h"
#include "platform/crypto.h"
#include "platform/files.h"
#include "platform/sqlite.h"
#include "sync/stamp.h"

using namespace outpost;

TEST_CASE("sqlite: a transaction rolls back unless committed") {
  db::Database db(":memory:");
  db.exec("CREATE TABLE t(x INTEGER)");
  {
    db::Transaction tx(db);
    db.prepare("INSERT INTO t VALUES(?)").bind(1, 1).run();
  }
  CHECK(db.query_int("SELECT count(*) FROM t") == 0);
  try {
    db::Transaction tx(db);
    db.prepare("INSERT INTO t VALUES(?)").bind(1, 2).run();
    throw std::runtime_error("user action failed half way");
  } catch (const std::runtime_error&) {
  }
  CHECK(db.query_int("SELECT count(*) FROM t") == 0);
  {
    db::Transaction tx(db);
    db.prepare("INSERT INTO t VALUES(?)").bind(1, 3).run();
    tx.commit();
  }
  CHECK(db.query_int("SELECT count(*) FROM t") == 1);
  CHECK(db.integrity_check() == "ok");
}

TEST_CASE("sqlite: errors name the SQL and a file that is not a database is refused") {
  db::Database db(":memory:");
  CHECK_THROWS_WITH_AS(db.exec("SELECT * FROM missing"), doctest::Contains("no such table: missing"), db::SqliteError);
  const std::string path = std::filesystem::temp_directory_path() / "outpost-not-a-db.txt";
  files::write_file_atomic(path, std::string(4096, 'x'));
  CHECK_THROWS_AS(db::Database{path}, db::SqliteError);
  std::filesystem::remove(path);
}

TEST_CASE("compress: round trip, bounded expansion, corrupt input") {
  const std::string text(100000, 'a');
  const std::string packed = compress::zstd_compress(text);
  CHECK(packed.size() < 1000);
  CHECK(compress::zstd_decompress(packed, text.size()) == text);
  CHECK_THROWS_AS(compress::zstd_decompress(packed, text.size() - 1), compress::TooLarge);
  CHECK_THROWS_AS(compress::zstd_decompress("definitely not zstd", 1000), compress::CompressError);
  CHECK_THROWS_AS(compress::zstd_decompress(packed.substr(0, packed.size() / 2), text.size()), compress::CompressError);
}

TEST_CASE("crypto: enrollment codes survive the way people type them") {
  const std::string code = crypto::human_code(4);
  CHECK(code.size() == 19);
  std::string typed = code;
  for (char& c : typed) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  CHECK(crypto::normalize_human_code(typed) == crypto::normalize_human_code(code));
  CHECK(crypto::normalize_human_code("ab-cd ef") == "ABCDEF");
  CHECK(crypto::normalize_human_code("o-I-l") == "011");
  CHECK(crypto::sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(crypto::uuid4().size() == 36);
  CHECK(crypto::random_hex(16) != crypto::random_hex(16));
}

TEST_CASE("files: atomic write replaces whole files and a lock is exclusive") {
  const std::string dir = std::filesystem::temp_directory_path() / ("outpost-files-" + crypto::random_hex(4));
  files::ensure_directory(dir);
  files::write_file_atomic(dir + "/a", "first");
  files::write_file_atomic(dir + "/a", "second");
  CHECK(files::read_file(dir + "/a") == "second");
  CHECK_FALSE(files::exists(dir + "/a.tmp"));
  {
    files::ExclusiveLock lock(dir + "/lock");
    CHECK_THROWS_WITH(files::ExclusiveLock(dir + "/lock"), doctest::Contains("another outpost process"));
  }
  files::ExclusiveLock again(dir + "/lock");
  std::filesystem::remove_all(dir);
}

TEST_CASE("hybrid clock: monotonic when the wall clock jumps back, and moves past what it observes") {
  ManualClock wall(1'000'000);
  sync::HybridClock clock(wall);
  const int64_t first = clock.tick();
  wall.set(500'000);  // the device's clock was set back
  const int64_t second = clock.tick();
  CHECK(second > first);
  clock.observe(sync::hlc_from_millis(2'000'000));
  CHECK(clock.tick() > sync::hlc_from_millis(2'000'000));
  CHECK(sync::Stamp{5, "a"} < sync::Stamp{5, "b"});
  CHECK(sync::Stamp{4, "z"} < sync::Stamp{5, "a"});
}
