#include <doctest/doctest.h>

#include "platform/crypto.h"
#include "platform/json_text.h"
#include "support/world.h"

using namespace outpost;
using namespace outpost::test;
using sync::Json;

// --- Local replica

TEST_CASE("replica: put, get, list and delete are local and queued") {
  ManualClock clock(World::kStart);
  sync::Replica replica(":memory:", clock);
  replica.put("submissions", "s1", {{"name", "Amina"}, {"members", 5}});
  clock.advance(10);
  replica.put("submissions", "s1", {{"members", 6}});
  replica.put("submissions", "s2", {{"name", "Bilal"}});

  auto record = replica.get("submissions", "s1");
  REQUIRE(record);
  CHECK(record->values() == Json{{"name", "Amina"}, {"members", 6}});
  CHECK(replica.list("submissions").size() == 2);
  // Three writes wait; the two to `members` will travel as one (nothing overwrote the first
  // here), which the outgoing batch shows.
  CHECK(replica.status().pending_changes == 3);
  const sync::OutgoingBatch batch = replica.next_batch();
  REQUIRE(batch.request.changes.size() == 3);
  CHECK(batch.request.changes[0].fields.count("members") == 0);
  CHECK(batch.request.changes[1].fields.at("members").value == "6");

  replica.remove("submissions", "s2");
  CHECK(replica.list("submissions").size() == 1);
  CHECK(replica.get("submissions", "s2")->deleted);
  CHECK(replica.list("submissions", true).size() == 2);
  CHECK_THROWS_WITH(replica.remove("submissions", "s2"), doctest::Contains("no record"));

  // Writing to a deleted record brings it back with its old fields.
  replica.put("submissions", "s2", {{"note", "found again"}});
  CHECK(replica.get("submissions", "s2")->values() == Json{{"name", "Bilal"}, {"note", "found again"}});
}

TEST_CASE("replica: live records are counted and read a window at a time; queued ones found by id") {
  ManualClock clock(World::kStart);
  sync::Replica replica(":memory:", clock);
  for (const char* id : {"d", "a", "c", "b", "e"}) replica.put("submissions", id, {{"id", id}});
  replica.put("incidents", "i1", {{"kind", "flood"}}, 10);
  replica.remove("submissions", "c");
  CHECK(replica.count_live("submissions") == 4);
  CHECK(replica.count_live("nothing") == 0);
  CHECK(replica.live_counts() == std::map<std::string, int64_t>{{"incidents", 1}, {"submissions", 4}});

  std::vector<std::string> ids;
  replica.for_each_live_record("submissions", 1, 2, [&](sync::Record&& record) { ids.push_back(record.id); });
  CHECK(ids == std::vector<std::string>{"b", "a"});  // newest first, the deleted "c" skipped
  ids.clear();
  replica.for_each_live_record("submissions", 3, 10, [&](sync::Record&& record) { ids.push_back(record.id); });
  CHECK(ids == std::vector<std::string>{"d"});

  replica.put("submissions", "c", {{"id", "c"}});  // back again, where it was first written
  replica.put("submissions", "d", {{"note", "edited"}});  // an edit does not move a record
  CHECK(replica.count_live("submissions") == 5);
  ids.clear();
  replica.for_each_live_record("submissions", 0, 10, [&](sync::Record&& record) { ids.push_back(record.id); });
  CHECK(ids == std::vector<std::string>{"e", "b", "c", "a", "d"});
  CHECK(replica.unsent_ids("submissions") == std::set<std::string>{"a", "b", "c", "d", "e"});
  CHECK(replica.queued_records(10).size() == 1);
  CHECK(replica.queued_records(10)[0].id == "i1");
}

TEST_CASE("replica: live records holding a value are counted, a look-alike elsewhere in a row is not") {
  sync::Replica replica(":memory:");
  replica.put("submissions", "s1", {{"state", "draft"}});
  replica.put("submissions", "s2", {{"state", "finalized"}});
  replica.put("submissions", "s3", {{"state", "draft"}, {"note", "keep"}});
  replica.put("submissions", "s4", {{"copy", {{"state", Json::array({"draft", 0})}}}});  // the text, nested
  replica.put("submissions", "s5", {{"state", "draft"}});
  replica.remove("submissions", "s5");
  replica.put("incidents", "i1", {{"state", "draft"}});
  CHECK(replica.count_live_with("submissions", "state", "draft") == 2);
  CHECK(replica.count_live_with("submissions", "state", "finalized") == 1);
  CHECK(replica.count_live_with("submissions", "state", "sent") == 0);
  CHECK(replica.is_queued("submissions", "s1"));
  CHECK_FALSE(replica.is_queued("submissions", "nothing"));
}

TEST_CASE("replica: bad names and values are refused before anything is written") {
  sync::Replica replica(":memory:");
  CHECK_THROWS_WITH(replica.put("Bad Name", "x", {{"a", 1}}), doctest::Contains("invalid collection name"));
  CHECK_THROWS_WITH(replica.put("_conflicts", "x", {{"a", 1}}), doctest::Contains("invalid collection name"));
  CHECK_THROWS_WITH(replica.put("notes", "", {{"a", 1}}), doctest::Contains("invalid record id"));
  CHECK_THROWS_WITH(replica.put("notes", "x", {{"_deleted", true}}), doctest::Contains("invalid field name"));
  CHECK_THROWS_WITH(replica.put("notes", "x", Json::object()), doctest::Contains("nothing to write"));
  CHECK(replica.status().pending_changes == 0);
}

TEST_CASE("replica: a replica file keeps its identity, clock and data across reopening") {
  const std::string path = "/tmp/outpost-replica-" + crypto::random_hex(4) + ".db";
  std::string id;
  int64_t stamp = 0;
  {
    sync::Replica replica(path);
    id = replica.replica_id();
    stamp = replica.put("notes", "n1", {{"text", "hello"}}).hlc;
  }
  {
    ManualClock behind(1000);  // the wall clock went back to 1970
    sync::Replica replica(path, behind);
    CHECK(replica.replica_id() == id);
    CHECK(replica.put("notes", "n1", {{"text", "again"}}).hlc > stamp);
    CHECK(replica.database().integrity_check() == "ok");
  }
  std::remove(path.c_str());
}

TEST_CASE("replica: a record's pending writes leave together however far apart they were written") {
  const std::string path = "/tmp/outpost-replica-" + crypto::random_hex(4) + ".db";
  {
    sync::Replica replica(path);
    replica.put("notes", "first", {{"x", 1}});
    for (int i = 0; i < 600; ++i) replica.put("notes", "n" + std::to_string(i), {{"i", i}});
    replica.put("notes", "first", {{"y", 2}});
    const sync::OutgoingBatch batch = replica.next_batch();
    REQUIRE(batch.request.changes.size() == 500);
    CHECK(batch.request.changes[0].id == "first");
    CHECK(batch.request.changes[1].id == "first");
    CHECK(batch.request.changes[1].fields.at("y").value == "2");
    CHECK(batch.request.changes[2].id == "n0");
  }
  // A file of schema 2 (before outbox rows knew of later writes, with the live records indexed
  // by id) is upgraded in place and sends the same.
  {
    db::Database db(path);
    db.exec("ALTER TABLE outbox DROP COLUMN later");
    db.exec("DROP INDEX records_live_by_row");
    db.exec("CREATE INDEX records_live ON records(collection, id) WHERE json_extract(fields, '$._deleted[0]') IS NOT 1");
    db.exec("PRAGMA user_version=2");
  }
  {
    sync::Replica replica(path);
    const sync::OutgoingBatch batch = replica.next_batch();
    REQUIRE(batch.request.changes.size() == 500);
    CHECK(batch.request.changes[1].id == "first");
    CHECK(replica.database().integrity_check() == "ok");
    CHECK(replica.database().query_int("SELECT count(*) FROM sqlite_master WHERE name='records_live'") == 0);
    CHECK(replica.count_live("notes") == 601);
    std::vector<std::string> newest;
    replica.for_each_live_record("notes", 0, 1, [&](sync::Record&& record) { newest.push_back(record.id); });
    CHECK(newest == std::vector<std::string>{"n599"});
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
}

// --- Sync scenarios against the in-process registry

TEST_CASE("sync: two devices converge and a concurrent edit of one field becomes a conflict") {
  World world;
  auto& a = world.add_device();
  auto& b = world.add_device(30'000);  // b's clock runs 30 s fast
  a.replica->put("submissions", "s1", {{"village", "Kalma"}, {"members", 4}});
  a.sync();
  b.sync();
  CHECK(b.replica->get("submissions", "s1")->values() == Json{{"village", "Kalma"}, {"members", 4}});

  world.advance(1000);
  a.replica->put("submissions", "s1", {{"members", 5}});
  b.replica->put("submissions", "s1", {{"members", 7}, {"village", "Kalma East"}});
  a.sync();
  b.sync();
  a.sync();

  // b's stamp is later (its clock is ahead), so b's value stays; a's is kept in a conflict.
  for (auto* device : {&a, &b}) {
    CHECK(device->replica->get("submissions", "s1")->values() == Json{{"village", "Kalma East"}, {"members", 7}});
    auto conflicts = device->replica->conflicts();
    REQUIRE(conflicts.size() == 1);
    CHECK(conflicts[0].field == "members");
    CHECK(conflicts[0].kept.value == 7);
    CHECK(conflicts[0].lost.value == 5);
    CHECK(conflicts[0].lost.by.find("device 0") != std::string::npos);
  }

  // Resolved on a; after one more sync round no device has it open.
  a.replica->resolve(a.replica->conflicts()[0].id, 6);
  a.sync();
  b.sync();
  for (auto* device : {&a, &b}) {
    CHECK(device->replica->conflicts().empty());
    CHECK(device->replica->get("submissions", "s1")->values()["members"] == 6);
  }
  CHECK(b.replica->conflicts(false).size() == 1);
}

TEST_CASE("sync: the same value written concurrently is not a conflict") {
  World world;
  auto& a = world.add_device();
  auto& b = world.add_device();
  a.replica->put("notes", "n", {{"status", "open"}});
  world.settle();
  a.replica->put("notes", "n", {{"status", "closed"}});
  b.replica->put("notes", "n", {{"status", "closed"}});
  world.settle();
  CHECK(a.replica->conflicts().empty());
  CHECK(b.replica->conflicts().empty());
}

TEST_CASE("sync: a pending local change that a pulled change beats is still pushed and kept as a conflict") {
  World world;
  auto& a = world.add_device();
  auto& b = world.add_device(60'000);
  a.replica->put("notes", "n", {{"text", "v0"}});
  world.settle();
  a.replica->put("notes", "n", {{"text", "from a"}});   // older stamp
  b.replica->put("notes", "n", {{"text", "from b"}});   // newer stamp
  b.sync();
  // a pulls b's newer value before its own write has left: locally b's value wins...
  a.sync();
  CHECK(a.replica->get("notes", "n")->values()["text"] == "from b");
  b.sync();
  // ...but a's write reached the registry and was recorded as the loser of a conflict.
  for (auto* device : {&a, &b}) {
    auto conflicts = device->replica->conflicts();
    REQUIRE(conflicts.size() == 1);
    CHECK(conflicts[0].kept.value == "from b");
    CHECK(conflicts[0].lost.value == "from a");
  }
}

TEST_CASE("sync: a delete concurrent with an edit keeps the edit, and resolving restores the record") {
  for (bool delete_first : {true, false}) {
    CAPTURE(delete_first);
    World world;
    auto& a = world.add_device();
    auto& b = world.add_device();
    a.replica->put("incidents", "i1", {{"kind", "flood"}, {"people", 30}});
    world.settle();
    world.advance(1000);
    a.replica->remove("incidents", "i1");
    b.replica->put("incidents", "i1", {{"people", 45}});
    if (delete_first) {
      a.sync();
      b.sync();
    } else {
      b.sync();
      a.sync();
    }
    world.settle();
    for (auto* device : {&a, &b}) {
      CHECK(device->replica->get("incidents", "i1")->deleted);
      auto conflicts = device->replica->conflicts();
      REQUIRE(conflicts.size() == 1);
      CHECK(conflicts[0].field == "_deleted");
      CHECK(conflicts[0].kept.value == true);
      CHECK(conflicts[0].lost.value == false);
    }
    CHECK_THROWS_WITH(b.replica->resolve(b.replica->conflicts()[0].id, "yes"), doctest::Contains("true"));
    b.replica->resolve(b.replica->conflicts()[0].id, false);
    world.settle();
    for (auto* device : {&a, &b}) {
      auto record = device->replica->get("incidents", "i1");
      CHECK_FALSE(record->deleted);
      CHECK(record->values() == Json{{"kind", "flood"}, {"people", 45}});
      CHECK(device->replica->conflicts().empty());
    }
  }
}

TEST_CASE("sync: lost answers and doubled requests apply nothing twice and invent no conflict") {
  World world;
  auto& a = world.add_device();
  auto& b = world.add_device();
  for (int i = 0; i < 20; ++i) a.replica->put("sites", "site" + std::to_string(i), {{"n", i}});
  int call = 0;
  // The first answer is lost after the registry committed, the retry is sent twice.
  a.transport->faults = [&] { return ++call == 1 ? Fault::LoseAnswer : call == 2 ? Fault::SendTwice : Fault::None; };
  auto report = a.sync();
  CHECK(report.retries == 1);
  // Meanwhile b overwrote some of them after seeing a's values: not concurrent.
  b.sync();
  b.replica->put("sites", "site3", {{"n", 300}});
  b.sync();
  // A replay of a's first request (seq already confirmed) changes nothing.
  a.replica->put("sites", "site99", {{"n", 99}});
  a.sync();
  const FieldSnapshot before = snapshot(world.registry.store.database());
  const sync::HttpRequest first = a.transport->sent.front();
  CHECK(world.registry.call(first).status == 409);
  CHECK(snapshot(world.registry.store.database()) == before);
  world.settle();
  CHECK(a.replica->conflicts().empty());
  CHECK(a.replica->list("sites").size() == 21);
  CHECK(snapshot(a.replica->database()) == snapshot(b.replica->database()));
}

TEST_CASE("sync: a device clock far in the future is clamped to the registry's and others still win later") {
  World world;
  auto& fast = world.add_device(3LL * 24 * 3600 * 1000);  // three days ahead
  auto& normal = world.add_device();
  fast.replica->put("notes", "n", {{"text", "from the future"}});
  fast.sync();
  const auto stored = fast.replica->get("notes", "n")->fields.at("text").stamp.hlc;
  CHECK(sync::hlc_millis(stored) <= World::kStart + sync::kMaxClockLeadMs);
  world.advance(1000);
  normal.sync();
  normal.replica->put("notes", "n", {{"text", "a minute later"}});
  normal.sync();
  fast.sync();
  for (auto* device : {&fast, &normal}) CHECK(device->replica->get("notes", "n")->values()["text"] == "a minute later");
  CHECK(snapshot(fast.replica->database()) == snapshot(normal.replica->database()));
  CHECK(fast.replica->conflicts().empty());
}

TEST_CASE("sync: a clamped write whose answer was lost gets the same clamped stamp on the retry") {
  World world;
  auto& fast = world.add_device(3LL * 24 * 3600 * 1000);
  auto& normal = world.add_device();
  fast.replica->put("notes", "n", {{"text", "from the future"}});
  int call = 0;
  fast.transport->faults = [&] { return ++call == 1 ? Fault::LoseAnswer : Fault::None; };
  CHECK(fast.sync().retries == 1);
  const auto stored = fast.replica->get("notes", "n")->fields.at("text").stamp.hlc;
  CHECK(sync::hlc_millis(stored) <= World::kStart + sync::kMaxClockLeadMs);
  normal.sync();
  CHECK(normal.replica->get("notes", "n")->fields.at("text").stamp.hlc == stored);
  CHECK(snapshot(fast.replica->database()) == snapshot(normal.replica->database()));
  CHECK(fast.replica->conflicts().empty());
}

TEST_CASE("sync: batches read ahead while one travels still carry every write once, clamped or not") {
  // The next batch is read while the registry works on the one before; an answer that clamps
  // stamps rewrites the outbox, and the batch read ahead must not go out with the old ones.
  World world;
  auto& fast = world.add_device(3LL * 24 * 3600 * 1000);
  auto& normal = world.add_device();
  for (int i = 0; i < 1200; ++i) fast.replica->put("notes", "n" + std::to_string(i), {{"i", i}});
  // Overwrites of records already in the first batch, written behind the rest.
  for (int i = 0; i < 10; ++i) fast.replica->put("notes", "n" + std::to_string(i), {{"i", -i}});
  auto report = fast.sync();
  CHECK(report.requests == 3);
  CHECK(report.pushed_changes == 1200);  // each overwrite travels instead of the write it replaced
  CHECK(fast.replica->status().pending_changes == 0);
  normal.sync();
  CHECK(normal.replica->list("notes").size() == 1200);
  CHECK(normal.replica->get("notes", "n3")->values()["i"] == -3);
  CHECK(sync::hlc_millis(normal.replica->get("notes", "n1199")->fields.at("i").stamp.hlc) <=
        World::kStart + sync::kMaxClockLeadMs);
  CHECK(snapshot(fast.replica->database()) == snapshot(normal.replica->database()));
  CHECK(fast.replica->conflicts().empty());
}

TEST_CASE("sync: more than one batch resumes from the last committed batch after a failure") {
  World world;
  auto& a = world.add_device();
  auto& b = world.add_device();
  for (int i = 0; i < 1200; ++i) a.replica->put("submissions", "r" + std::to_string(i), {{"i", i}});
  auto report = a.sync();
  CHECK(report.requests == 3);  // 500 + 500 + 200
  int call = 0;
  b.transport->faults = [&] { return ++call == 2 ? Fault::LoseRequest : Fault::None; };
  CHECK_THROWS_AS(b.sync(1), sync::SyncError);
  CHECK(b.replica->list("submissions").size() == 500);  // the first batch is committed
  b.transport->faults = nullptr;
  b.sync();
  CHECK(b.replica->list("submissions").size() == 1200);
}

TEST_CASE("sync: urgent changes leave first") {
  World world;
  auto& a = world.add_device();
  for (int i = 0; i < 600; ++i) a.replica->put("submissions", "r" + std::to_string(i), {{"i", i}});
  a.replica->put("incidents", "urgent", {{"what", "armed attack"}}, 10);
  const sync::OutgoingBatch batch = a.replica->next_batch();
  REQUIRE(batch.request.changes.size() == 500);
  CHECK(batch.request.changes.front().id == "urgent");
}

TEST_CASE("protocol: refused changes travel in the answer, and a device takes them only in order") {
  sync::SyncResponse response;
  response.acked = 3;
  response.refused = {{0, "forbidden", "notes/a is an id another organization uses"}, {2, "unknown_conflict", "x"}};
  const std::string text = sync::encode_response(response);
  const sync::SyncResponse read = sync::decode_response(text);
  REQUIRE(read.refused.size() == 2);
  CHECK(read.refused[1].index == 2);
  CHECK(read.refused[0].error == "forbidden");
  CHECK(read.refused[0].message == "notes/a is an id another organization uses");
  response.refused.clear();
  CHECK(sync::encode_response(response).find("refused") == std::string::npos);  // as before it existed
  CHECK_THROWS_WITH(sync::decode_response(R"({"acked":1,"clamped":[],"refused":[{"error":"x"}],"changes":[],"cursor":0,"more":false})"),
                    doctest::Contains("refused[0]"));

  // An answer refusing a change the request did not carry, or twice, is not applied.
  ManualClock clock(World::kStart);
  sync::Replica replica(":memory:", clock);
  replica.put("notes", "a", {{"text", "1"}});
  const sync::OutgoingBatch batch = replica.next_batch();
  sync::SyncResponse wrong;
  wrong.acked = 1;
  wrong.refused = {{1, "forbidden", ""}};
  CHECK_THROWS_WITH(replica.apply_response(batch, wrong), doctest::Contains("nothing was applied"));
  wrong.refused = {{0, "forbidden", ""}, {0, "forbidden", ""}};
  CHECK_THROWS_WITH(replica.apply_response(batch, wrong), doctest::Contains("nothing was applied"));
  CHECK(replica.status().pending_changes == 1);
  CHECK(replica.status().refused_changes == 0);
}

TEST_CASE("protocol: hostile bodies are refused with the path of the problem") {
  std::string deep(100000, '[');
  deep += std::string(100000, ']');
  CHECK_NOTHROW(sync::decode_body(deep, false));  // the parser itself does not recurse
  Json nested = Json::array();
  for (int i = 0; i < 40; ++i) nested = Json::array({nested});
  Json request = {{"seq", 1}, {"cursor", 0}, {"changes", Json::array({{{"c", "notes"}, {"id", "x"},
      {"f", {{"a", {{"v", nested}, {"s", {5, "r"}}}}}}}})}};
  CHECK_THROWS_WITH(sync::decode_request(request.dump()), doctest::Contains("changes[0].f.a.v: nested deeper"));
  request["changes"][0]["f"]["a"] = {{"v", 1}, {"s", "not a stamp"}};
  CHECK_THROWS_WITH(sync::decode_request(request.dump()), doctest::Contains("changes[0].f.a.s: expected a stamp"));
  request["changes"] = "nope";
  CHECK_THROWS_WITH(sync::decode_request(request.dump()), doctest::Contains("request.changes: expected an array"));
  // Malformed JSON is told apart from JSON of the wrong shape, and located.
  CHECK_THROWS_AS(sync::decode_request(R"({"seq": 1, "cursor": 0, "changes": [}])"), json_text::ParseError);
  CHECK_THROWS_WITH(sync::decode_request(R"({"seq": 1, "cursor": 0, "changes": [}])"), doctest::Contains("at byte 36"));
  // A deep body is refused by the reader, which does not recurse either.
  CHECK_THROWS_WITH(sync::decode_request(R"({"seq":1,"cursor":0,"changes":[{"c":"notes","id":"x","f":{"a":{"s":[5,"r"],"v":)" +
                                         deep + "}}}]}"),
                    doctest::Contains("nested deeper"));
  sync::Replica replica(":memory:");
  CHECK_THROWS_WITH(replica.put("notes", "x", {{"a", nested}}), doctest::Contains("nested deeper"));
}

TEST_CASE("sync: a registry restored from an older backup sends everything again instead of nothing") {
  World world;
  auto& a = world.add_device();
  auto& b = world.add_device();
  for (int i = 0; i < 5; ++i) a.replica->put("notes", "n" + std::to_string(i), {{"i", i}});
  a.sync();
  b.sync();
  // b believes it is further along than this registry has ever been.
  b.replica->database().exec("UPDATE meta SET value='999999' WHERE key='cursor'");
  a.replica->put("notes", "late", {{"i", 99}});
  a.sync();
  b.sync();
  CHECK(b.replica->list("notes").size() == 6);
  CHECK(snapshot(a.replica->database()) == snapshot(b.replica->database()));
}

TEST_CASE("sync: one action's writes to a record are never split across requests") {
  // A second put that rewrites a pending field in place and adds another: both carry the same
  // stamp, and must reach the registry together however small the batches.
  World world;
  auto& a = world.add_device();
  auto& b = world.add_device();
  a.replica->put("notes", "r", {{"x", 1}, {"y", 1}});
  for (int i = 0; i < 3; ++i) a.replica->put("notes", "other" + std::to_string(i), {{"i", i}});
  a.replica->put("notes", "r", {{"x", 2}, {"z", 3}});
  sync::SyncEngine engine(*a.replica, *a.transport, a.token);
  sync::SyncOptions options;
  options.batch_records = 3;
  engine.run(options);
  b.sync();
  CHECK(b.replica->get("notes", "r")->values() == Json{{"x", 2}, {"y", 1}, {"z", 3}});
  CHECK(snapshot(a.replica->database()) == snapshot(b.replica->database()));
}
