#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <random>

#include <nlohmann/json.hpp>

#include "platform/compress.h"
#include "platform/crypto.h"
#include "platform/files.h"
#include "platform/json_text.h"
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

// --- JSON as text

TEST_CASE("json text: strings are written as nlohmann::json writes them") {
  for (const std::string& text : {std::string(""), std::string("plain"), std::string("quote \" and \\ backslash"),
                                 std::string("tab\tnew\nline\r\b\f"), std::string("\x01\x1f\x7f"),
                                 std::string("accents é ü 日本 🙂"), std::string("a\0b", 3)})
    CHECK(json_text::quoted(text) == nlohmann::json(text).dump());
}

TEST_CASE("json text: a value is handed out as its own text, and read back as it was written") {
  const std::string text = R"( {"a" : [1, -2.5e3, "x\"y", {"n": null}], "b": true, "k\u00e9y": "\ud83d\ude42"} )";
  json_text::Reader reader(text);
  std::vector<std::string> keys;
  std::string a, b, smile;
  reader.object([&](std::string_view key) {
    keys.emplace_back(key);
    if (key == "a") a = reader.value();
    else if (key == "b") b = reader.boolean() ? "yes" : "no";
    else smile = reader.string();
  });
  reader.finish();
  CHECK(keys == std::vector<std::string>{"a", "b", "k\xc3\xa9y"});
  CHECK(a == R"([1, -2.5e3, "x\"y", {"n": null}])");
  CHECK(b == "yes");
  CHECK(smile == "\xf0\x9f\x99\x82");

  json_text::Reader integers("[0, -9223372036854775808, 9223372036854775807]");
  std::vector<int64_t> values;
  integers.array([&] { values.push_back(integers.integer()); });
  CHECK(values == std::vector<int64_t>{0, INT64_MIN, INT64_MAX});
}

TEST_CASE("json text: malformed JSON is located, JSON of another shape is told apart") {
  // What reading `text` throws: "parse ..." for malformed JSON, "shape ..." for another kind.
  const auto error_with = [](const std::string& text, auto read) {
    try {
      json_text::Reader reader(text);
      read(reader);
    } catch (const json_text::ParseError& error) {
      return std::string("parse ") + error.what();
    } catch (const std::invalid_argument& error) {
      return std::string("shape ") + error.what();
    }
    return std::string("ok");
  };
  const auto error_of = [&](const std::string& text) {
    return error_with(text, [](json_text::Reader& reader) {
      reader.value();
      reader.finish();
    });
  };
  CHECK(error_of("[1,]") == "parse at byte 3: expected a value");
  CHECK(error_of("[01]") == "parse at byte 2: expected ',' or ']'");
  CHECK(error_of(R"("\x")") == "parse at byte 2: invalid escape in a string");
  CHECK(error_of("\"\xc3\x28\"") == "parse at byte 1: invalid UTF-8 in a string");
  CHECK(error_of(R"("\ud800")") == "parse at byte 7: high surrogate without its low half");
  CHECK(error_of("{\"a\" 1}") == "parse at byte 5: expected ':'");
  CHECK(error_of("[1] x") == "parse at byte 4: unexpected text after the end");
  CHECK(error_of("[") == "parse at byte 1: unexpected end");
  CHECK(error_of("[1e400]") == "parse at byte 1: number out of range");  // no device could read it
  CHECK(error_of(std::string("1\0", 2)) == "parse at byte 1: unexpected text after the end");
  CHECK(error_of(std::string(65, '[') + std::string(65, ']')) == "shape nested deeper than 64 levels");

  const auto integer_error = [&](const std::string& text) {
    return error_with(text, [](json_text::Reader& reader) { reader.integer(); });
  };
  CHECK(integer_error(R"("7")") == "shape expected an integer");
  CHECK(integer_error("1.5") == "shape expected an integer");
  CHECK(integer_error("99999999999999999999") == "shape integer out of range");
  CHECK(integer_error("x") == "parse at byte 0: expected an integer");
}

TEST_CASE("json text: the reader accepts exactly what nlohmann::json accepts") {
  // Mutations of valid documents: whatever one parser takes, the other takes too.
  const std::vector<std::string> seeds = {
      R"({"c":"notes","id":"x","s":[5,"r"],"f":{"a":{"v":[1,2.5,-3e2,true,false,null,"s\n\u00e9"]}}})",
      R"([{"k":{"":[]}},"\ud83d\ude42",0.0,-0,1E+2,"\"\\\/\b\f\n\r\t"])", "\"caf\xc3\xa9 \xe6\x97\xa5\""};
  const std::string alphabet = "{}[]\",:\\/ 0123456789.eE+-truefalsn\xc3\xa9\xed\xa0\x80\xf0\x9f";
  std::mt19937 rng(11);
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  for (int trial = 0; trial < 20000; ++trial) {
    std::string text = seeds[pick(seeds.size())];
    for (size_t edits = 1 + pick(3); edits > 0; --edits) {
      const size_t at = pick(text.size() + 1);
      switch (pick(3)) {
        case 0: text.insert(at, 1, alphabet[pick(alphabet.size())]); break;
        case 1: if (at < text.size()) text.erase(at, 1); break;
        default: if (at < text.size()) text[at] = alphabet[pick(alphabet.size())];
      }
    }
    bool ours = true;
    try {
      json_text::Reader reader(text);
      reader.value();
      reader.finish();
    } catch (const std::invalid_argument&) {
      ours = false;
    }
    CAPTURE(text);
    CHECK(ours == nlohmann::json::accept(text));
  }
}
