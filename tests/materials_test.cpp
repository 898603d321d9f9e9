// The registry's side of materials, in process: the catalog published as records, the file
// routes (Range, ETag, access per organization) and uploads verified chunk by chunk.

#include <doctest/doctest.h>

#include "platform/crypto.h"
#include "platform/files.h"
#include "registry/materials.h"
#include "support/transfer_data.h"
#include "support/in_process.h"
#include "support/temp_dir.h"
#include "sync/blob_transfer.h"
#include "sync/engine.h"
#include "sync/material_record.h"

using namespace outpost;
using namespace outpost::test;
using sync::Json;

namespace {

constexpr int64_t kStart = 1'790'000'000'000;
const std::string kAssets = OUTPOST_ASSETS_DIR "/materials/";

struct Member {
  std::unique_ptr<sync::Replica> replica;
  std::unique_ptr<InProcessTransport> transport;
  std::string token;

  void sync() {
    sync::SyncEngine engine(*replica, *transport, token);
    engine.run();
  }
  // Sends a record naming the file, as a submission with an attachment does: only then does
  // the registry take the file from this device's organization.
  void name_file(const std::string& sha256) {
    replica->put("submissions", crypto::uuid4(), {{"attachments", {{"file.bin", {{"sha256", sha256}, {"size", 1}}}}}});
    sync();
  }
};

// A registry serving files, its catalog, two organizations and devices in them.
struct Fixture {
  TempDir dir{"outpost-materials"};
  ManualClock clock{kStart};
  InProcessRegistry registry{clock, ":memory:", dir.file("registry.blobs")};
  registry::Materials materials{registry.registry, *registry.blobs, clock};
  std::string alpha = registry.registry.add_org("Alpha").id;
  std::string beta = registry.registry.add_org("Beta").id;

  Member member(const std::string& org) {
    Member device;
    device.replica = std::make_unique<sync::Replica>(":memory:", clock);
    device.transport = std::make_unique<InProcessTransport>(registry);
    device.token = enroll(registry, *device.replica, org, "device of " + org);
    return device;
  }

  registry::ApiResponse get(const std::string& path, const std::string& token,
                            std::vector<std::pair<std::string, std::string>> headers = {}) {
    headers.emplace_back("Authorization", "Bearer " + token);
    return registry.call(sync::HttpRequest{"GET", path, headers, ""});
  }
  registry::ApiResponse put(const std::string& path, const std::string& token, const std::string& body) {
    return registry.call(sync::HttpRequest{"PUT", path, {{"Authorization", "Bearer " + token}}, body});
  }
  std::string file(const std::string& name, const std::string& content) {
    files::write_file_atomic(dir.file(name), content);
    return dir.file(name);
  }
};

std::string header(const registry::ApiResponse& response, const std::string& name) {
  for (const auto& [key, value] : response.headers)
    if (key == name) return value;
  return "";
}

std::string error_code(const registry::ApiResponse& response) { return Json::parse(response.body).value("error", ""); }

}  // namespace

// --- Front matter and the record's fields

TEST_CASE("materials: front matter gives title, summary, language and tags; the body starts after it") {
  const std::string text = "---\ntitle: \"Planning: a workshop\"\nlanguage: en\ntags: [training, project-management]\n"
                           "summary: How to plan\n---\n# Body\n";
  const auto front = sync::parse_front_matter(text);
  REQUIRE(front);
  CHECK(front->values.at("title") == "Planning: a workshop");
  CHECK(front->values.at("language") == "en");
  CHECK(front->tags == std::vector<std::string>{"training", "project-management"});
  CHECK(text.substr(front->body_offset) == "# Body\n");
  const auto listed = sync::parse_front_matter("---\ntags:\n  - advocacy\n  - sdgs\n---\n");
  REQUIRE(listed);
  CHECK(listed->tags == std::vector<std::string>{"advocacy", "sdgs"});
  CHECK_FALSE(sync::parse_front_matter("# No front matter\n---\n"));
  CHECK_FALSE(sync::parse_front_matter("---\ntitle: never closed\n"));
}

TEST_CASE("materials: text a person typed is checked, naming the field") {
  sync::MaterialInfo info;
  info.title = "Guide";
  info.lang = "pt-BR";
  info.tags = {"human-rights"};
  CHECK_NOTHROW(sync::check_material_text(info));
  info.lang = "Français";
  CHECK_THROWS_WITH(sync::check_material_text(info), doctest::Contains("language 'Français' is not a language code"));
  info.lang = "fr";
  info.tags = {"Human Rights"};
  CHECK_THROWS_WITH(sync::check_material_text(info), doctest::Contains("tag 'Human Rights' must be"));
  info.tags.clear();
  info.title.clear();
  CHECK_THROWS_WITH(sync::check_material_text(info), doctest::Contains("title must be"));
}

// --- The catalog

TEST_CASE("materials: a published material reaches the devices it is meant for, and leaves them when removed") {
  Fixture world;
  Member alpha = world.member(world.alpha);
  Member beta = world.member(world.beta);

  registry::MaterialSource everyone;
  everyone.file = kAssets + "ecosoc-consultative-status.fr.md";
  const registry::PublishedMaterial ecosoc = world.materials.add(everyone);
  registry::MaterialSource own;
  own.file = world.file("budget.txt", "Budget lines for the Kalma workshop\n");
  own.title = "Workshop budget";
  own.lang = "en";
  own.tags = {"fundraising"};
  own.partition = world.alpha;
  const registry::PublishedMaterial budget = world.materials.add(own);

  // The front matter described the French guide.
  CHECK(ecosoc.info.title == "Demander le statut consultatif auprès de l'ECOSOC");
  CHECK(ecosoc.info.lang == "fr");
  CHECK(ecosoc.info.tags == std::vector<std::string>{"advocacy", "human-rights", "sdgs"});
  CHECK(ecosoc.info.media_type == "text/markdown");
  CHECK(ecosoc.info.sha256 == crypto::sha256_hex(files::read_file(everyone.file)));
  CHECK(world.materials.list().size() == 2);

  alpha.sync();
  beta.sync();
  const auto pulled = alpha.replica->get(sync::kMaterialsCollection, ecosoc.id);
  REQUIRE(pulled);
  CHECK(sync::MaterialInfo::from_fields(pulled->values()).sha256 == ecosoc.info.sha256);
  CHECK(pulled->fields.at("title").stamp.replica == sync::kRegistryReplica);
  CHECK(alpha.replica->list(sync::kMaterialsCollection).size() == 2);
  CHECK(beta.replica->list(sync::kMaterialsCollection).size() == 1);  // not Alpha's own

  // Devices cannot write the catalog.
  alpha.replica->put(sync::kMaterialsCollection, ecosoc.id, {{"title", "mine"}});
  alpha.sync();
  REQUIRE(alpha.replica->refused_writes().size() == 1);
  CHECK(alpha.replica->refused_writes()[0].message.find("published by the registry and read-only") != std::string::npos);

  world.materials.remove(budget.id);
  CHECK(world.materials.list().size() == 1);
  CHECK_FALSE(world.registry.blobs->store().contains(budget.info.sha256));
  beta.sync();
  Member late = world.member(world.alpha);
  late.sync();
  CHECK(late.replica->list(sync::kMaterialsCollection).size() == 1);
  CHECK(late.replica->get(sync::kMaterialsCollection, budget.id)->deleted);
  CHECK_THROWS_WITH(world.materials.remove(budget.id), doctest::Contains(("no material " + budget.id).c_str()));
}

TEST_CASE("materials: bad input is refused before anything is stored") {
  Fixture world;
  registry::MaterialSource source;
  source.file = world.file("notes.txt", "notes");
  CHECK_THROWS_WITH(world.materials.add(source), "give the material a --title");
  source.title = "Notes";
  CHECK_THROWS_WITH(world.materials.add(source), doctest::Contains("--lang"));
  source.lang = "en";
  source.partition = "org_nothere";
  CHECK_THROWS_WITH(world.materials.add(source), doctest::Contains("no organization with id org_nothere"));
  source.partition = registry::kPublicPartition;
  source.file = world.dir.file("missing.pdf");
  CHECK_THROWS_WITH(world.materials.add(source), doctest::Contains("no file"));
  CHECK(world.materials.list().empty());
  CHECK(world.registry.blobs->store().used_bytes() == 0);
}

TEST_CASE("materials: the registry writes records as itself, and only in the record's partition") {
  Fixture world;
  auto write = [&](const std::string& id, const std::string& partition, const Json& fields) {
    world.registry.registry.write_records_as_registry(registry::Registry::cli_admin(), partition,
                                                      {{"materials", id, fields}});
  };
  write("m1", world.alpha, {{"title", "x"}});
  CHECK_THROWS_WITH(write("m1", registry::kPublicPartition, {{"title", "y"}}),
                    doctest::Contains(("belongs to " + world.alpha).c_str()));
  CHECK_THROWS_WITH(write("m2", "org_none", {{"title", "y"}}), doctest::Contains("no organization"));
  CHECK_THROWS_WITH(write("m2", registry::kPublicPartition, {{"_x", 1}}), doctest::Contains("field '_x' cannot be written"));
}

// --- Serving files

TEST_CASE("blob routes: files are served whole or by range, with ETag and length, to those who may read them") {
  Fixture world;
  Member alpha = world.member(world.alpha);
  Member beta = world.member(world.beta);
  const std::string content = random_bytes(300'000, 1);
  registry::MaterialSource source;
  source.file = world.file("manual.pdf", content);
  source.title = "Manual";
  source.lang = "en";
  source.partition = world.alpha;
  const std::string sha = world.materials.add(source).info.sha256;
  const std::string path = "/v1/blobs/" + sha;

  const registry::ApiResponse whole = world.get(path, alpha.token);
  CHECK(whole.status == 200);
  CHECK(registry::read_body(whole) == content);
  CHECK(header(whole, "ETag") == "\"" + sha + "\"");
  CHECK(header(whole, "Accept-Ranges") == "bytes");

  const registry::ApiResponse part = world.get(path, alpha.token, {{"Range", "bytes=65536-131071"}});
  CHECK(part.status == 206);
  CHECK(header(part, "Content-Range") == "bytes 65536-131071/300000");
  CHECK(registry::read_body(part) == content.substr(65536, 65536));
  CHECK(registry::read_body(world.get(path, alpha.token, {{"Range", "bytes=299990-"}})) == content.substr(299990));
  CHECK(registry::read_body(world.get(path, alpha.token, {{"Range", "bytes=-10"}})) == content.substr(299990));
  CHECK(registry::read_body(world.get(path, alpha.token, {{"Range", "bytes=299000-999999"}})) == content.substr(299000));

  const registry::ApiResponse beyond = world.get(path, alpha.token, {{"Range", "bytes=300000-"}});
  CHECK(beyond.status == 416);
  CHECK(header(beyond, "Content-Range") == "bytes */300000");
  CHECK(error_code(beyond) == "range_not_satisfiable");
  CHECK(world.get(path, alpha.token, {{"If-None-Match", "\"" + sha + "\""}}).status == 304);
  // Several ranges, or another unit: the whole file, as HTTP allows.
  CHECK(world.get(path, alpha.token, {{"Range", "bytes=0-1,5-6"}}).status == 200);

  const Json manifest = Json::parse(world.get(path + "/manifest", alpha.token).body);
  CHECK(sync::BlobManifest::from_json(manifest, "test").chunk_count() == 5);

  // Another organization's file answers like a missing one; so does nonsense.
  CHECK(world.get(path, beta.token).status == 404);
  CHECK(world.get(path + "/manifest", beta.token).status == 404);
  CHECK(error_code(world.get("/v1/blobs/../../etc/passwd", alpha.token)) == "invalid_hash");
  CHECK(world.get(path, "wrong-token").status == 401);
  CHECK(error_code(world.put(path + "/chunks/0", alpha.token, "x")) == "upload_not_started");
}

// --- Receiving files

TEST_CASE("uploads: the registry is asked first, then takes verified chunks; the file goes to the uploader's organization") {
  Fixture world;
  Member alpha = world.member(world.alpha);
  Member beta = world.member(world.beta);
  sync::BlobStore alpha_files(world.dir.file("alpha-files"));
  const std::string photo = world.file("photo.jpg", random_bytes(5 * sync::kBlobChunkSize + 777, 2));
  const std::string sha = alpha_files.add_file(photo).sha256;
  alpha.name_file(sha);
  beta.name_file(sha);

  sync::BlobTransfer alpha_transfer(alpha_files, *alpha.transport, alpha.token, no_waiting());
  CHECK(alpha_transfer.registry_has({sha}).empty());
  const auto reports = alpha_transfer.upload({sha});
  REQUIRE(reports.size() == 1);
  CHECK_FALSE(reports[0].skipped);
  CHECK(reports[0].bytes_moved == files::read_file(photo).size());
  CHECK(files::read_file(world.registry.blobs->store().path(sha)) == files::read_file(photo));
  CHECK(alpha_transfer.registry_has({sha}) == std::vector<std::string>{sha});
  CHECK(alpha_transfer.upload({sha})[0].skipped);

  // Beta may not read it, and must send every byte to prove it holds the same file.
  sync::BlobStore beta_files(world.dir.file("beta-files"));
  beta_files.add_file(photo);
  sync::BlobTransfer beta_transfer(beta_files, *beta.transport, beta.token, no_waiting());
  CHECK(beta_transfer.registry_has({sha}).empty());
  CHECK(world.get("/v1/blobs/" + sha, beta.token).status == 404);
  CHECK(beta_transfer.upload({sha})[0].bytes_moved == files::read_file(photo).size());
  CHECK(world.get("/v1/blobs/" + sha, beta.token).status == 200);
}

TEST_CASE("uploads: lost requests and answers resume from what the registry holds") {
  Fixture world;
  Member alpha = world.member(world.alpha);
  sync::BlobStore files_here(world.dir.file("files"));
  const std::string content = random_bytes(12 * sync::kBlobChunkSize + 5, 3);
  const std::string sha = files_here.add_file(world.file("video.mp4", content)).sha256;
  alpha.name_file(sha);
  int call = 0;
  alpha.transport->faults = [&] {
    ++call;
    if (call % 4 == 0) return Fault::LoseAnswer;
    if (call % 5 == 0) return Fault::LoseRequest;
    return Fault::None;
  };
  sync::BlobTransfer transfer(files_here, *alpha.transport, alpha.token, no_waiting());
  const sync::TransferReport report = transfer.upload({sha})[0];
  CHECK(files::read_file(world.registry.blobs->store().path(sha)) == content);
  CHECK(report.failures > 0);
  // A lost request or answer costs at most the chunk it carried.
  CHECK(report.bytes_wasted <= report.failures * sync::kBlobChunkSize);
}

TEST_CASE("uploads: bad chunks, bad manifests, a full quota and other organizations' uploads are refused clearly") {
  Fixture world;
  Member alpha = world.member(world.alpha);
  Member beta = world.member(world.beta);
  const std::string content = random_bytes(3 * sync::kBlobChunkSize, 4);
  const sync::BlobManifest manifest = sync::BlobManifest::of_file(world.file("data.bin", content));
  const std::string base = "/v1/blobs/" + manifest.sha256;
  alpha.name_file(manifest.sha256);
  beta.name_file(manifest.sha256);

  sync::BlobManifest other = manifest;
  other.sha256 = std::string(64, 'a');
  CHECK(error_code(world.put(base + "/manifest", alpha.token, other.canonical_text())) == "invalid_manifest");
  CHECK(error_code(world.put(base + "/manifest", alpha.token, "{}")) == "invalid_manifest");

  const registry::ApiResponse started = world.put(base + "/manifest", alpha.token, manifest.canonical_text());
  REQUIRE(started.status == 200);
  CHECK(Json::parse(started.body)["received"] == Json::array());
  std::string chunk = content.substr(0, sync::kBlobChunkSize);
  chunk[10] ^= 1;
  CHECK(error_code(world.put(base + "/chunks/0", alpha.token, chunk)) == "chunk_mismatch");
  CHECK(error_code(world.put(base + "/chunks/0", alpha.token, "short")) == "invalid_chunk");
  CHECK(error_code(world.put(base + "/chunks/9", alpha.token, chunk)) == "invalid_chunk");
  CHECK(world.put(base + "/chunks/1", alpha.token, content.substr(sync::kBlobChunkSize, sync::kBlobChunkSize)).status == 200);
  CHECK(Json::parse(world.put(base + "/manifest", alpha.token, manifest.canonical_text()).body)["received"] ==
        Json::array({1}));
  // Another organization waits while this upload is under way.
  CHECK(error_code(world.put(base + "/manifest", beta.token, manifest.canonical_text())) == "upload_busy");
  CHECK(error_code(world.put(base + "/chunks/0", beta.token, content.substr(0, sync::kBlobChunkSize))) ==
        "upload_not_started");

  SUBCASE("a quota") {
    TempDir small_dir("outpost-quota");
    registry::BlobService small(small_dir.path(), 100'000, world.clock,
                                [](const registry::Device&, const std::string&) { return true; });
    registry::Principal who{registry::Device{}, false};
    who.device->org_id = world.alpha;
    const registry::ApiRequest request{"PUT", base + "/manifest", {}, manifest.canonical_text()};
    CHECK_THROWS_WITH_AS(small.handle(who, request, {"v1", "blobs", manifest.sha256, "manifest"}),
                         "the registry cannot take this file: storage quota of 0.1 MB exceeded: need 0.2 MB, 0.1 MB free",
                         registry::ApiError);
  }
}
