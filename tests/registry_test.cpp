#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "platform/compress.h"
#include "registry/sqlite_store.h"
#include "support/temp_dir.h"
#include "support/world.h"

using namespace outpost;
using namespace outpost::test;
using sync::Json;

namespace {

registry::ApiResponse post(World& world, const std::string& path, const Json& body, const std::string& token = "") {
  sync::HttpRequest request;
  request.path = path;
  request.body = body.dump();
  if (!token.empty()) request.headers.emplace_back("Authorization", "Bearer " + token);
  return world.registry.call(request);
}

registry::ApiResponse get(World& world, const std::string& path, const std::string& token) {
  sync::HttpRequest request;
  request.method = "GET";
  request.path = path;
  request.headers.emplace_back("Authorization", "Bearer " + token);
  return world.registry.call(request);
}

std::string error_code(const registry::ApiResponse& response) {
  return Json::parse(response.body).value("error", "");
}

}  // namespace

TEST_CASE("registry: an enrollment code is single use, but the same device may ask again") {
  World world;
  const std::string code = world.registry.registry.invite(registry::Registry::cli_admin(), world.org, registry::Role::Field);
  const std::string replica = "0123456789abcdef0123456789abcdef";
  auto first = post(world, "/v1/enroll", {{"code", code}, {"replica", replica}, {"name", "tablet 1"}});
  REQUIRE(first.status == 200);
  // Its answer was lost: the same device asks again and gets a new token; the old one dies.
  auto again = post(world, "/v1/enroll", {{"code", code}, {"replica", replica}, {"name", "tablet 1"}});
  REQUIRE(again.status == 200);
  const std::string old_token = Json::parse(first.body)["token"], new_token = Json::parse(again.body)["token"];
  CHECK(old_token != new_token);
  CHECK(get(world, "/v1/collections", old_token).status == 401);
  CHECK(get(world, "/v1/collections", new_token).status == 200);
  // Another device cannot use it.
  auto other = post(world, "/v1/enroll", {{"code", code}, {"replica", std::string(32, 'f')}, {"name", "tablet 2"}});
  CHECK(other.status == 410);
  CHECK(error_code(other) == "code_used");
  // Typed in lower case with spaces, a fresh code still works.
  std::string typed = world.registry.registry.invite(registry::Registry::cli_admin(), world.org, registry::Role::Field);
  for (char& c : typed) c = c == '-' ? ' ' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  CHECK(post(world, "/v1/enroll", {{"code", typed}, {"replica", std::string(32, 'e')}, {"name", "t3"}}).status == 200);
  CHECK(post(world, "/v1/enroll", {{"code", "NOPE-NOPE"}, {"replica", std::string(32, 'd')}, {"name", "t4"}}).status ==
        404);
}

TEST_CASE("registry: its database file, which holds the secret signing key, is its owner's alone") {
  test::TempDir dir;
  const std::string path = dir.file("registry.db");
  {
    std::ofstream created(path);  // as a umask of 022 leaves a new file: readable by all
  }
  std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                                         std::filesystem::perms::group_read | std::filesystem::perms::others_read);
  registry::SqliteStore store(path);
  CHECK((std::filesystem::status(path).permissions() & std::filesystem::perms::all) ==
        (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
}

TEST_CASE("registry: expired codes are refused") {
  World world;
  const std::string code = world.registry.registry.invite(registry::Registry::cli_admin(), world.org, registry::Role::Field, 1);
  world.registry_clock.advance(2LL * 24 * 3600 * 1000);
  auto answer = post(world, "/v1/enroll", {{"code", code}, {"replica", std::string(32, 'a')}, {"name", "late"}});
  CHECK(answer.status == 410);
  CHECK(error_code(answer) == "code_expired");
}

TEST_CASE("registry: roles decide who may invite, list and revoke") {
  World world;
  const std::string other_org = world.registry.registry.add_org("Other NGO").id;
  auto& field = world.add_device();
  sync::Replica admin_replica(":memory:");
  const std::string admin = enroll(world.registry, admin_replica, world.org, "coordinator", registry::Role::OrgAdmin);
  auto& stranger = world.add_device(0, other_org);

  CHECK(post(world, "/v1/invites", {{"org", world.org}}, field.token).status == 403);
  CHECK(post(world, "/v1/invites", {{"org", world.org}, {"role", "admin"}}, admin).status == 201);
  CHECK(post(world, "/v1/invites", {{"org", other_org}}, admin).status == 403);
  CHECK(post(world, "/v1/invites", {{"org", world.org}, {"role", "boss"}}, admin).status == 400);

  auto devices = Json::parse(get(world, "/v1/devices", admin).body)["devices"];
  CHECK(devices.size() == 2);
  for (const Json& device : devices) CHECK(device["org"] == world.org);
  CHECK(get(world, "/v1/devices", field.token).status == 403);

  const std::string root = world.registry.registry.create_admin_token("root");
  auto id_of = [&](const std::string& name) {
    const Json listing = Json::parse(get(world, "/v1/devices", root).body);
    for (const Json& device : listing["devices"])
      if (device["name"] == name) return device["id"].get<std::string>();
    return std::string();
  };
  CHECK(post(world, "/v1/devices/" + id_of("device 1") + "/revoke", Json::object(), admin).status == 403);
  CHECK(post(world, "/v1/devices/" + id_of("device 0") + "/revoke", Json::object(), admin).status == 200);
  CHECK_THROWS_WITH_AS(field.sync(1), doctest::Contains("enroll again"), sync::SyncError);
  stranger.replica->put("notes", "n", {{"x", 1}});
  stranger.sync();

  CHECK(post(world, "/v1/orgs", {{"name", "Third"}}, admin).status == 403);
  CHECK(post(world, "/v1/orgs", {{"name", "Third"}}, root).status == 201);
  CHECK(post(world, "/v1/orgs", {{"name", "Third"}}, root).status == 409);
  CHECK(Json::parse(get(world, "/v1/orgs", admin).body)["orgs"].size() == 1);
  CHECK(Json::parse(get(world, "/v1/orgs", root).body)["orgs"].size() == 3);
}

TEST_CASE("registry: malformed or forbidden sync requests write nothing") {
  World world;
  const std::string other_org = world.registry.registry.add_org("Other NGO").id;
  auto& a = world.add_device();
  auto& stranger = world.add_device(0, other_org);
  a.replica->put("notes", "shared-id", {{"text", "org one"}});
  a.sync();
  const FieldSnapshot before = snapshot(world.registry.store.database());

  auto request_with = [&](const std::string& collection, const std::string& field, const Json& value) {
    sync::SyncRequest request;
    request.seq = 1;
    sync::RecordChange change;
    change.collection = collection;
    change.id = "shared-id";
    change.fields[field] = sync::FieldChange{value.dump(), sync::Stamp{sync::hlc_from_millis(World::kStart), stranger.replica->replica_id()}, {}, 0};
    request.changes.push_back(change);
    return Json::parse(sync::encode_request(request));
  };
  auto unknown = post(world, "/v1/sync", request_with("recipes", "text", "x"), stranger.token);
  CHECK(unknown.status == 422);
  CHECK(error_code(unknown) == "unknown_collection");
  CHECK(post(world, "/v1/sync", request_with("notes", "bad name!", "x"), stranger.token).status == 400);
  CHECK(post(world, "/v1/sync", request_with("notes", "_deleted", "maybe"), stranger.token).status == 400);
  CHECK(post(world, "/v1/sync", {{"cursor", 0}, {"changes", Json::array()}}, stranger.token).status == 400);
  CHECK(post(world, "/v1/sync", {{"seq", 1}, {"cursor", 0}, {"changes", Json::array()}}, "wrong").status == 401);
  CHECK(post(world, "/v1/sync", {{"seq", 1}, {"cursor", 0}, {"changes", Json::array()}}).status == 401);

  sync::HttpRequest bad_json;
  bad_json.path = "/v1/sync";
  bad_json.headers = {{"Authorization", "Bearer " + stranger.token}};
  bad_json.body = "{\"seq\": 1, ";
  auto malformed = world.registry.call(bad_json);
  CHECK(malformed.status == 400);
  CHECK(error_code(malformed) == "malformed_json");

  bad_json.headers.emplace_back("Content-Encoding", "zstd");
  bad_json.body = compress::zstd_compress(std::string(70 * 1024 * 1024, ' '));
  CHECK(world.registry.call(bad_json).status == 413);

  CHECK(get(world, "/v1/records/notes/shared-id", stranger.token).status == 404);
  CHECK(get(world, "/v1/records/notes/shared-id", a.token).status == 200);
  CHECK(get(world, "/v1/nothing", a.token).status == 404);
  CHECK(world.registry.call(sync::HttpRequest{"DELETE", "/v1/sync", {{"Authorization", "Bearer " + a.token}}, ""}).status ==
        405);

  // Another organization's record id: that change alone is refused, and said so in the answer.
  auto forbidden = post(world, "/v1/sync", request_with("notes", "text", "org two"), stranger.token);
  CHECK(forbidden.status == 200);
  const Json refused = Json::parse(forbidden.body).at("refused");
  REQUIRE(refused.size() == 1);
  CHECK(refused[0]["i"] == 0);
  CHECK(refused[0]["error"] == "forbidden");
  CHECK(refused[0]["message"].get<std::string>().find("another organization") != std::string::npos);

  stranger.replica->set_next_request_seq(2);  // the request above was its first
  stranger.sync();
  CHECK(stranger.replica->list("notes").empty());
  CHECK(snapshot(world.registry.store.database()) == before);
}

TEST_CASE("registry: the catalogs it publishes are read-only for devices, even their own organization's") {
  World world;
  auto& device = world.add_device();
  world.registry.registry.write_records_as_registry(registry::Registry::cli_admin(), world.org,
                                                    {{"forms", "survey@1", {{"title", "Survey"}}}});
  device.sync();
  REQUIRE(device.replica->get("forms", "survey@1"));
  device.replica->put("forms", "survey@1", {{"title", "Mine now"}});
  device.replica->put("notes", "n-1", {{"text", "goes"}});
  const sync::SyncReport report = device.sync();
  CHECK(report.refused_changes == 1);
  CHECK(report.pushed_changes == 1);
  CHECK(world.registry.registry.records(registry::Registry::cli_admin(), "forms").at(0).second["title"] == "Survey");
  const std::vector<sync::RefusedWrite> refused = device.replica->refused_writes();
  REQUIRE(refused.size() == 1);
  CHECK(refused[0].id == "survey@1");
  CHECK(refused[0].message.find("published by the registry and read-only") != std::string::npos);
  CHECK(device.replica->status().pending_changes == 0);  // the refused write no longer blocks the outbox
}

TEST_CASE("sync: a change the registry refuses is kept aside with its reason; the device's other changes go") {
  World world;
  const std::string other_org = world.registry.registry.add_org("Other NGO").id;
  auto& a = world.add_device();
  auto& colleague = world.add_device();
  auto& other = world.add_device(0, other_org);
  other.replica->put("notes", "hh-0001", {{"text", "theirs"}});
  other.sync();

  a.replica->put("notes", "hh-0001", {{"text", "ours"}});  // an id the other organization uses
  a.replica->put("notes", "hh-0002", {{"text", "fine"}});
  a.replica->put("notes", "hh-0001", {{"members", 4}});    // a second write of the refused record
  const sync::SyncReport report = a.sync();
  CHECK(report.refused_changes == 2);  // a change entry for each write
  CHECK(report.pushed_changes == 1);
  const sync::ReplicaStatus status = a.replica->status();
  CHECK(status.pending_changes == 0);
  CHECK(status.refused_changes == 2);  // both writes of hh-0001, kept aside
  const std::vector<sync::RefusedWrite> refused = a.replica->refused_writes();
  REQUIRE(refused.size() == 2);
  CHECK(refused[0].id == "hh-0001");
  CHECK(refused[0].error == "forbidden");
  CHECK(refused[0].message.find("another organization") != std::string::npos);
  CHECK(a.replica->get("notes", "hh-0001")->values() == Json{{"text", "ours"}, {"members", 4}});  // nothing lost

  colleague.sync();
  CHECK(colleague.replica->get("notes", "hh-0002"));
  CHECK_FALSE(colleague.replica->get("notes", "hh-0001"));
  other.sync();
  CHECK(other.replica->get("notes", "hh-0001")->values() == Json{{"text", "theirs"}});

  a.replica->put("notes", "hh-0003", {{"text", "later"}});
  const sync::SyncReport next = a.sync();  // the outbox flows on
  CHECK(next.pushed_changes == 1);
  CHECK(next.refused_changes == 0);
}
