// Bundles between two devices of one registry, with no registry reachable while they travel:
// the round trip, and bundles refused whole (a flipped byte, a cut, a path leaving the bundle,
// an altered record) with the library left as it was.

#include <doctest/doctest.h>
#include <zip.h>

#include <filesystem>

#include "client/bundle.h"
#include "client/library.h"
#include "form_records/form_records.h"
#include "platform/crypto.h"
#include "platform/files.h"
#include "registry/materials.h"
#include "support/in_process.h"
#include "support/temp_dir.h"
#include "support/transfer_data.h"

using namespace outpost;
using namespace outpost::test;
using client::Library;
using sync::Json;

namespace {

const std::string kAssets = OUTPOST_ASSETS_DIR "/materials/";

// A trainer's device that synced and pinned two materials, and a participant's device that
// enrolled once and never synced.
struct BundleWorld {
  TempDir dir{"outpost-bundle"};
  ManualClock clock{1'790'000'000'000};
  InProcessRegistry registry{clock, ":memory:", dir.file("registry.blobs")};
  registry::Materials materials{registry.registry, *registry.blobs, clock};
  std::string org = registry.registry.add_org("Trainers").id;
  client::Home trainer{dir.file("trainer")};
  client::Home participant{dir.file("participant")};
  InProcessTransport transport{registry};
  std::vector<std::string> ids;

  BundleWorld() {
    for (const char* name : {"ecosoc-consultative-status.fr.md", "situation-report.en.md"}) {
      registry::MaterialSource source;
      source.file = kAssets + name;
      ids.push_back(materials.add(source).id);
    }
    for (client::Home* home : {&trainer, &participant})
      home->enroll("in-process", registry.registry.invite(registry::Registry::cli_admin(), org, registry::Role::Field),
                   "device", transport);
    trainer.sync(transport);
    Library library(trainer);
    for (const std::string& id : ids) library.pin(id, transport, no_waiting());
  }

  std::string exported() {
    const std::string path = dir.file("workshop.bundle");
    client::export_bundle(trainer, ids, {}, path);
    return path;
  }

  // A bundle of the form intake@1, published by the registry, with the given materials.
  std::string exported_with_form(const std::vector<std::string>& material_ids) {
    registry.registry.write_records_as_registry(registry::Registry::cli_admin(), org,
                                                {{form_records::kFormsCollection, "intake@1", {{"title", "Intake"}}}});
    trainer.sync(transport);
    const std::string path = dir.file("with-form.bundle");
    client::export_bundle(trainer, material_ids, {"intake@1"}, path);
    return path;
  }

  // The participant's library holds nothing, and no staging directory was left behind.
  void check_participant_unchanged() {
    Library library(participant);
    CHECK(library.catalog().empty());
    CHECK(library.used_bytes() == 0);
    for (const auto& entry : std::filesystem::directory_iterator(participant.directory()))
      CHECK(entry.path().filename().string().rfind("bundle-staging", 0) != 0);
  }

  void check_refused(const std::string& path, const std::string& reason) {
    try {
      client::import_bundle(participant, path);
      FAIL("bundle accepted: " << path);
    } catch (const client::ClientError& error) {
      const std::string message = error.what();
      CHECK_MESSAGE(message.find(reason) != std::string::npos, message);
      CHECK(message.find("nothing was imported") != std::string::npos);
    }
    check_participant_unchanged();
  }
};

// Adds or replaces an entry of a zip file.
void put_entry(const std::string& zip_path, const std::string& name, const std::string& content) {
  int code = 0;
  zip_t* archive = zip_open(zip_path.c_str(), 0, &code);
  REQUIRE(archive != nullptr);
  zip_source_t* source = zip_source_buffer(archive, content.data(), content.size(), 0);
  REQUIRE(zip_file_add(archive, name.c_str(), source, ZIP_FL_OVERWRITE) >= 0);
  REQUIRE(zip_close(archive) == 0);
}

std::string entry_text(const std::string& zip_path, const std::string& name) {
  int code = 0;
  zip_t* archive = zip_open(zip_path.c_str(), ZIP_RDONLY, &code);
  REQUIRE(archive != nullptr);
  zip_stat_t stat;
  REQUIRE(zip_stat(archive, name.c_str(), 0, &stat) == 0);
  std::string text(stat.size, '\0');
  zip_file_t* file = zip_fopen(archive, name.c_str(), 0);
  REQUIRE(zip_fread(file, text.data(), text.size()) == static_cast<zip_int64_t>(text.size()));
  zip_fclose(file);
  zip_discard(archive);
  return text;
}

}  // namespace

TEST_CASE("bundle: a round trip between two devices with no registry reachable") {
  BundleWorld world;
  const std::string path = world.exported_with_form(world.ids);
  // From here on nothing can reach the registry: the participant has no transport at all.
  const client::BundleImport report = client::import_bundle(world.participant, path);
  CHECK(report.materials == 2);
  CHECK(report.forms == 1);
  const auto form = world.participant.replica().get(form_records::kFormsCollection, "intake@1");
  REQUIRE(form);
  CHECK(form->values()["title"] == "Intake");
  CHECK_FALSE(world.participant.replica().has_pending_changes());  // merged, not written by the participant

  Library trainer(world.trainer), participant(world.participant);
  for (const std::string& id : world.ids) {
    const client::Material got = participant.material(id);
    CHECK(got.pinned);
    CHECK(got.state == client::DownloadState::Downloaded);
    CHECK(crypto::sha256_hex(files::read_file(participant.local_path(id))) == got.info.sha256);
    CHECK(files::read_file(participant.local_path(id)) == files::read_file(trainer.local_path(id)));
  }
  CHECK(participant.search("consultatif").size() == 1);  // indexed, offline
  // Importing again changes nothing.
  CHECK(client::import_bundle(world.participant, path).materials == 2);
  CHECK(Library(world.participant).catalog().size() == 2);
}

TEST_CASE("bundle: one flipped byte is refused and nothing is stored") {
  BundleWorld world;
  std::string bytes = files::read_file(world.exported());
  SUBCASE("in a file") {
    const size_t at = bytes.find("## ");  // Markdown headings live only in the files
    REQUIRE(at != std::string::npos);
    bytes[at + 3] ^= 0x01;
  }
  SUBCASE("in bundle.json") {
    // The first entry: a local header of some 30-80 bytes, then its compressed text (~1 kB).
    bytes[200] ^= 0x01;
  }
  files::write_file_atomic(world.dir.file("flipped.bundle"), bytes);
  world.check_refused(world.dir.file("flipped.bundle"), "refused");
}

TEST_CASE("bundle: a truncated bundle is refused") {
  BundleWorld world;
  const std::string bytes = files::read_file(world.exported());
  files::write_file_atomic(world.dir.file("cut.bundle"), bytes.substr(0, bytes.size() * 2 / 3));
  world.check_refused(world.dir.file("cut.bundle"), "truncated or not a bundle");
}

TEST_CASE("bundle: unsafe paths are refused") {
  BundleWorld world;
  const std::string path = world.exported();
  SUBCASE("leaving the bundle") {
    put_entry(path, "../escape.md", "# not yours");
    world.check_refused(path, "entry '../escape.md' has an unsafe path");
    CHECK_FALSE(files::exists(world.dir.file("escape.md")));
  }
  SUBCASE("absolute") {
    put_entry(path, "/tmp/outpost-absolute.md", "# not yours");
    world.check_refused(path, "has an unsafe path");
  }
  SUBCASE("a symbolic link") {
    put_entry(path, "files/link", "/etc/passwd");
    int code = 0;
    zip_t* archive = zip_open(path.c_str(), 0, &code);
    REQUIRE(archive != nullptr);
    const zip_int64_t index = zip_name_locate(archive, "files/link", 0);
    REQUIRE(zip_file_set_external_attributes(archive, static_cast<zip_uint64_t>(index), 0, ZIP_OPSYS_UNIX,
                                             (0120777u) << 16) == 0);
    REQUIRE(zip_close(archive) == 0);
    world.check_refused(path, "entry 'files/link' is a symbolic link");
  }
}

TEST_CASE("bundle: an altered record no longer matches the registry's signature") {
  BundleWorld world;
  const std::string path = world.exported();
  Json manifest = Json::parse(entry_text(path, "bundle.json"));
  Json& title = manifest["records"][0]["f"]["title"]["v"];
  title = title.get<std::string>() + " (edited)";
  put_entry(path, "bundle.json", manifest.dump());
  world.check_refused(path, "the registry's signature does not match");
}

TEST_CASE("bundle: a form altered after publishing, or never signed by the registry, is refused") {
  BundleWorld world;
  const std::string path = world.exported_with_form({});
  Json manifest = Json::parse(entry_text(path, "bundle.json"));
  Json& form = manifest["records"][0];
  REQUIRE(form["c"] == form_records::kFormsCollection);
  SUBCASE("altered") {
    form["f"]["title"]["v"] = "Intake (with a question of our own)";
    put_entry(path, "bundle.json", manifest.dump());
    world.check_refused(path, "the registry's signature does not match form intake@1");
  }
  SUBCASE("unsigned") {
    form["f"].erase(form_records::kSignatureField);
    put_entry(path, "bundle.json", manifest.dump());
    world.check_refused(path, "form intake@1 carries no registry signature");
  }
  CHECK_FALSE(world.participant.replica().get(form_records::kFormsCollection, "intake@1"));
}

TEST_CASE("bundle: a device enrolled before registries signed cannot import, and is told to enroll again") {
  BundleWorld world;
  const std::string path = world.exported();
  world.participant.replica().set_setting("registry_signing_key", "");
  CHECK_THROWS_WITH_AS(client::import_bundle(world.participant, path), doctest::Contains("enroll it again"),
                       client::ClientError);
  world.check_participant_unchanged();
}

TEST_CASE("bundle: the registry signs each material with the key devices receive at enrollment") {
  BundleWorld world;
  CHECK(world.trainer.registry_signing_key() == world.registry.registry.signing_public_key());
  Library library(world.trainer);
  const client::Material material = library.material(world.ids[0]);
  const sync::BlobManifest manifest = sync::BlobManifest::of_file(library.local_path(material.id), material.info.chunk_size);
  CHECK_NOTHROW(sync::verify_material(material.id, material.info, manifest, world.trainer.registry_signing_key()));
  CHECK_THROWS_WITH_AS(sync::verify_material(world.ids[1], material.info, manifest, world.trainer.registry_signing_key()),
                       doctest::Contains("signature does not match"), sync::BlobError);
  sync::BlobManifest other_chunks = manifest;
  other_chunks.chunks[0][0] = other_chunks.chunks[0][0] == 'a' ? 'b' : 'a';
  CHECK_THROWS_WITH_AS(sync::verify_material(material.id, material.info, other_chunks, world.trainer.registry_signing_key()),
                       doctest::Contains("signature does not match"), sync::BlobError);
  const crypto::SigningKeyPair stranger = crypto::generate_signing_key();
  CHECK_THROWS_AS(sync::verify_material(material.id, material.info, manifest, stranger.public_hex), sync::BlobError);
}

TEST_CASE("bundle: materials published before signatures are signed when the registry opens its catalog") {
  BundleWorld world;
  {
    db::Database catalog(world.dir.file("registry.blobs") + "/materials.db");
    auto& select = catalog.prepare("SELECT fields FROM materials WHERE id=?");
    select.bind(1, world.ids[0]);
    REQUIRE(select.step());
    Json fields = Json::parse(select.text(0));
    select.reset();
    fields.erase("signature");
    catalog.prepare("UPDATE materials SET fields=? WHERE id=?").bind(1, fields.dump()).bind(2, world.ids[0]).run();
  }
  registry::Materials reopened(world.registry.registry, *world.registry.blobs, world.clock);
  for (const registry::PublishedMaterial& material : reopened.list())
    CHECK_FALSE(material.info.signature.empty());
  // The device receives the record signed again and can bundle it.
  world.trainer.sync(world.transport);
  CHECK_NOTHROW(world.exported());
}
