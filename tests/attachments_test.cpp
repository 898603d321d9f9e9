// Submission attachments on the device and at the registry, in process: files stored by
// content when chosen, clear errors, one copy of a photo in two submissions, reopened drafts,
// the `fill` command, and the upload after the records, allowed only for files the
// organization's records name.

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "client/attachments.h"
#include "client/cli.h"
#include "client/submissions.h"
#include "platform/crypto.h"
#include "platform/files.h"
#include "support/in_process.h"
#include "support/published_forms.h"
#include "support/temp_dir.h"
#include "support/transfer_data.h"

using namespace outpost;
using namespace outpost::test;
using sync::Json;

namespace {

constexpr int64_t kStart = 1'790'000'000'000;

forms::Device test_device() {
  return forms::Device{"tablet", [] { return forms::LocalTime{kStart, 0}; }};
}

// A home holding the all_types form (an image and a file question in the group "media").
struct FormHome {
  TempDir dir{"outpost-attachments"};
  client::Home home{dir.file("home")};
  // Without `publish`, the form is left for a registry to send.
  explicit FormHome(bool publish = true) {
    if (publish) publish_form(home.replica(), "all_types");
  }

  std::string file(const std::string& name, const std::string& content) const {
    files::write_file_atomic(dir.file(name), content);
    return dir.file(name);
  }
  Json submission(const std::string& id) {
    const auto record = home.replica().get(form_records::kSubmissionsCollection, id);
    REQUIRE(record);
    return record->values();
  }
  // The files the home's attachment store holds.
  size_t stored_files() const {
    size_t count = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir.file("home/attachments/objects")))
      if (entry.is_regular_file() && entry.path().extension() != ".manifest") ++count;
    return count;
  }
  int run(const std::vector<std::string>& args, std::string& out, std::string& err) {
    std::vector<std::string> argv = {"--home", dir.file("home")};
    argv.insert(argv.end(), args.begin(), args.end());
    std::ostringstream out_stream, err_stream;
    const int code = client::run_cli(argv, out_stream, err_stream, client::curl_transport_factory());
    out = out_stream.str();
    err = err_stream.str();
    return code;
  }
};

}  // namespace

// --- Storing

TEST_CASE("attachments: a chosen file is stored by content and named in the submission; the original may go") {
  FormHome world;
  const std::string photo = world.file("IMG_0042.jpg", jpeg_bytes(150'000, 1));
  const std::string sha = crypto::sha256_hex(files::read_file(photo));
  auto form = client::load_latest_form(world.home.replica(), "all_types");
  client::AttachmentStore files(world.home);
  client::SubmissionDraft draft(world.home.replica(), *form, "", test_device());
  draft.attach(files, "an_image", {}, photo);
  draft.save();
  std::filesystem::remove(photo);

  const Json fields = world.submission(draft.id());
  CHECK(fields["answers"]["an_image"] == "IMG_0042.jpg");
  CHECK(fields["attachments"] ==
        Json{{"IMG_0042.jpg", {{"sha256", sha}, {"size", 150'000}, {"media_type", "image/jpeg"}}}});
  REQUIRE_FALSE(files.path(sha).empty());
  CHECK(crypto::sha256_hex(files::read_file(files.path(sha))) == sha);

  // Another file under the same name keeps both; a file no answer names any more is left out.
  const std::string other = world.file("IMG_0042.jpg", random_bytes(1000, 2));
  draft.attach(files, "a_file", {}, other);
  draft.save();
  CHECK(world.submission(draft.id())["answers"]["a_file"] == "IMG_0042-2.jpg");
  draft.session().set_answer("an_image", {}, "");
  draft.save();
  CHECK(world.submission(draft.id())["attachments"].size() == 1);
  CHECK(world.submission(draft.id())["attachments"].contains("IMG_0042-2.jpg"));
  CHECK_THROWS_AS(draft.attach(files, "a_text", {}, other), forms::FillError);
}

TEST_CASE("attachments: a missing, unreadable or oversized file is refused naming the question and the path") {
  FormHome world;
  client::AttachmentStore files(world.home);
  CHECK_THROWS_WITH_AS(files.add(world.dir.file("gone.jpg"), "an_image"),
                       ("an_image: no file " + world.dir.file("gone.jpg")).c_str(), client::ClientError);
  CHECK_THROWS_WITH_AS(files.add(world.dir.path(), "a_file"),
                       ("a_file: " + world.dir.path() + " is not a file").c_str(), client::ClientError);
  const std::string secret = world.file("secret.pdf", "x");
  std::filesystem::permissions(secret, std::filesystem::perms::none);
  if (!std::ifstream(secret)) {  // root reads it all the same
    CHECK_THROWS_WITH_AS(files.add(secret, "a_file"), ("a_file: cannot read " + secret + " (permissions?)").c_str(),
                         client::ClientError);
  }
  client::AttachmentStore small(world.home, 100'000);
  const std::string video = world.file("clip.mp4", random_bytes(300'000, 3));
  CHECK_THROWS_WITH_AS(small.add(video, "members[2].photo"),
                       ("members[2].photo: " + video +
                        " does not fit on this device: storage quota of 0.1 MB exceeded: need 0.3 MB, 0.1 MB free")
                           .c_str(),
                       sync::QuotaExceeded);
}

TEST_CASE("attachments: an image question takes images only, told by their first bytes, and names their type") {
  FormHome world;
  client::AttachmentStore files(world.home);
  auto form = client::load_latest_form(world.home.replica(), "all_types");
  client::SubmissionDraft draft(world.home.replica(), *form, "", test_device());

  const std::string report = world.file("photo.jpg", "%PDF-1.4 a report, named like a photo");
  CHECK_THROWS_WITH_AS(draft.attach(files, "an_image", {}, report),
                       ("an_image: " + report + " is not an image (JPEG, PNG, GIF, WebP, HEIC, BMP or TIFF)").c_str(),
                       client::ClientError);
  CHECK(draft.session().submission().answer("an_image", {}).empty());
  CHECK(files.used_bytes() == 0);  // nothing stored
  CHECK_THROWS_WITH_AS(draft.attach(files, "an_image", {}, world.dir.file("gone.jpg")),
                       ("an_image: no file " + world.dir.file("gone.jpg")).c_str(), client::ClientError);
  draft.attach(files, "a_file", {}, report);  // a file question takes anything

  const struct {
    const char* name;
    std::string head;
    const char* type;
  } images[] = {{"camera", "\x89PNG\r\n\x1A\n", "image/png"},
                {"IMG_0001.HEIC", std::string("\0\0\0\x18" "ftypheic", 12), "image/heic"},
                {"sketch.webp", std::string("RIFF\x10\0\0\0WEBP", 12), "image/webp"},
                {"scan.tif", std::string("II*\0", 4), "image/tiff"}};
  for (const auto& image : images) {
    CAPTURE(image.name);
    draft.attach(files, "an_image", {}, world.file(image.name, image.head + random_bytes(500, 16)));
    CHECK(draft.attachments().at(image.name).media_type == image.type);
  }
}

TEST_CASE("attachments: the same photo in two submissions is stored once") {
  FormHome world;
  const std::string photo = world.file("well.png", jpeg_bytes(70'000, 4));
  auto form = client::load_latest_form(world.home.replica(), "all_types");
  client::AttachmentStore files(world.home);
  std::vector<std::string> hashes;
  for (int i = 0; i < 2; ++i) {
    client::SubmissionDraft draft(world.home.replica(), *form, "", test_device());
    draft.attach(files, "an_image", {}, photo);
    draft.save();
    hashes.push_back(world.submission(draft.id())["attachments"]["well.png"]["sha256"]);
  }
  CHECK(hashes[0] == hashes[1]);
  CHECK(world.stored_files() == 1);
}

// --- Drafts

TEST_CASE("drafts: a draft reopens with its answers, entries and files; a finalized one does not") {
  FormHome world;
  const std::string photo = world.file("site.jpg", jpeg_bytes(5000, 5));
  auto form = client::load_latest_form(world.home.replica(), "all_types");
  client::AttachmentStore files(world.home);
  std::string id;
  {
    client::SubmissionDraft draft(world.home.replica(), *form, "", test_device());
    draft.session().set_answer("a_text", {}, "first visit");
    draft.session().add_repeat("visits", {});
    draft.session().set_answer("visit_date", {0}, "2026-01-05");
    draft.attach(files, "an_image", {}, photo);
    draft.save();
    id = draft.id();
  }
  auto reopened_form = client::load_draft_form(world.home.replica(), id);
  client::SubmissionDraft draft(world.home.replica(), *reopened_form, "", test_device(), id);
  CHECK(draft.id() == id);
  CHECK(draft.session().submission().answer("a_text", {}) == "first visit");
  CHECK(draft.session().submission().entries("visits", {}) == 1);
  CHECK(draft.session().submission().answer("visit_date", {0}) == "2026-01-05");
  CHECK(draft.session().submission().answer("an_image", {}) == "site.jpg");
  CHECK(draft.attachments().count("site.jpg") == 1);
  CHECK(draft.finalize().empty());
  CHECK(world.submission(id)["attachments"].contains("site.jpg"));

  CHECK_THROWS_WITH_AS(client::load_draft_form(world.home.replica(), id),
                       ("submission " + id + " is finalized; a finalized submission cannot be edited").c_str(),
                       client::ClientError);
  CHECK_THROWS_WITH_AS(client::load_draft_form(world.home.replica(), "nope"), "this device has no submission nope",
                       client::ClientError);
}

TEST_CASE("fill command: image answers are paths, stored; --submission continues a draft, then finalizes it") {
  FormHome world;
  const std::string photo = world.file("pump.jpg", jpeg_bytes(20'000, 6));
  const std::string answers = world.file("answers.json", Json{{"a_text", "pump broken"}, {"an_image", photo}}.dump());
  std::string out, err;
  REQUIRE_MESSAGE(world.run({"fill", "all_types", "--answers", answers}, out, err) == 0, err);
  const std::string id = out.substr(0, out.find('\n'));
  std::filesystem::remove(photo);
  Json fields = world.submission(id);
  CHECK(fields["state"] == "draft");
  CHECK(fields["answers"]["an_image"] == "pump.jpg");
  CHECK(fields["attachments"]["pump.jpg"]["size"] == 20'000);

  // A missing file names the answers file, the question and the path; nothing changes.
  const std::string broken = world.file("broken.json", Json{{"a_file", world.dir.file("nothing.pdf")}}.dump());
  CHECK(world.run({"fill", "all_types", "--submission", id, "--answers", broken}, out, err) == 1);
  CHECK(err == "outpost: " + broken + ": a_file: no file " + world.dir.file("nothing.pdf") + "\n");

  const std::string more = world.file("more.json", Json{{"visits", {{{"visit_date", "2026-02-01"}}}}}.dump());
  REQUIRE_MESSAGE(world.run({"fill", "all_types", "--submission", id, "--answers", more, "--finalize"}, out, err) == 0,
                  err);
  CHECK(out == id + "\n");
  fields = world.submission(id);
  CHECK(fields["state"] == "finalized");
  CHECK(fields["answers"]["a_text"] == "pump broken");
  CHECK(fields["answers"]["an_image"] == "pump.jpg");
  CHECK(fields["answers"]["visits"][0]["visit_date"] == "2026-02-01");

  CHECK(world.run({"fill", "all_types", "--submission", id, "--answers", more}, out, err) == 1);
  CHECK(err == "outpost: submission " + id + " is finalized; a finalized submission cannot be edited\n");
}

// --- Sending

namespace {

// A registry that receives files, two organizations, and an enrolled home in the first.
struct SendingWorld : FormHome {
  ManualClock clock{kStart};
  InProcessRegistry registry{clock, ":memory:", dir.file("registry.blobs")};
  std::string org = registry.registry.add_org("Relief").id;
  std::string other_org = registry.registry.add_org("Elsewhere").id;
  InProcessTransport transport{registry};

  SendingWorld() : FormHome(false) {
    std::vector<registry::Registry::RecordWrite> form;
    for (auto& [id, fields] : form_fixture_records("all_types"))
      form.push_back({form_records::kFormsCollection, id, std::move(fields)});
    registry.registry.write_records_as_registry(registry::Registry::cli_admin(), org, form);
    home.enroll("in-process", registry.registry.invite(registry::Registry::cli_admin(), org, registry::Role::Field),
                "tablet", transport);
    home.sync(transport);
  }
  std::string token_of(const std::string& org_id) {
    sync::Replica replica(":memory:", clock);
    return enroll(registry, replica, org_id, "another device");
  }
  registry::ApiResponse get_file(const std::string& sha256, const std::string& token) {
    return registry.call(sync::HttpRequest{"GET", "/v1/blobs/" + sha256, {{"Authorization", "Bearer " + token}}, ""});
  }
};

}  // namespace

TEST_CASE("attachment sync: records first, then the files of sent submissions; other organizations cannot read them") {
  SendingWorld world;
  const std::string content = jpeg_bytes(5 * sync::kBlobChunkSize + 99, 7);
  const std::string photo = world.file("flood.jpg", content);
  const std::string sha = crypto::sha256_hex(content);
  auto form = client::load_latest_form(world.home.replica(), "all_types");
  client::AttachmentStore files(world.home);
  client::SubmissionDraft draft(world.home.replica(), *form, "", test_device());
  draft.attach(files, "an_image", {}, photo);
  draft.session().add_repeat("visits", {});
  draft.session().set_answer("visit_date", {0}, "2026-01-05");
  draft.save();
  CHECK(files.waiting_uploads().empty());  // a draft's files stay on the device
  REQUIRE(draft.finalize().empty());
  CHECK(files.waiting_uploads().empty());  // not acknowledged yet: the record goes first

  const client::HomeSyncReport report = world.home.sync(world.transport);
  CHECK(report.records.pushed_changes >= 1);
  CHECK(report.attachments.sent() == 1);
  CHECK(report.attachments.bytes_moved() == content.size());
  CHECK(files::read_file(world.registry.blobs->store().path(sha)) == content);
  // Every sync request went before the first file request.
  std::vector<std::string> paths;
  for (const sync::HttpRequest& request : world.transport.sent) paths.push_back(request.path);
  const auto first_file = std::find_if(paths.begin(), paths.end(),
                                       [](const std::string& path) { return path.rfind("/v1/blobs", 0) == 0; });
  REQUIRE(first_file != paths.end());
  CHECK(std::find(first_file, paths.end(), "/v1/sync") == paths.end());

  // Sent once: the next sync does not ask again.
  world.transport.sent.clear();
  CHECK(world.home.sync(world.transport).attachments.files.empty());
  for (const sync::HttpRequest& request : world.transport.sent) CHECK(request.path == "/v1/sync");

  CHECK(world.get_file(sha, world.token_of(world.org)).status == 200);
  CHECK(world.get_file(sha, world.token_of(world.other_org)).status == 404);
}

TEST_CASE("attachment sync: a device uploads only files its organization's records name") {
  SendingWorld world;
  const std::string content = random_bytes(3 * sync::kBlobChunkSize, 8);
  sync::BlobStore elsewhere_files(world.dir.file("elsewhere-files"));
  const sync::BlobManifest manifest = elsewhere_files.add_file(world.file("leak.bin", content));
  const std::string other_token = world.token_of(world.other_org);
  const registry::ApiResponse refused = world.registry.call(
      sync::HttpRequest{"PUT", "/v1/blobs/" + manifest.sha256 + "/manifest",
                        {{"Authorization", "Bearer " + other_token}}, manifest.canonical_text()});
  CHECK(refused.status == 403);
  CHECK(Json::parse(refused.body)["error"] == "not_referenced");

  // Named by a record of its own organization, the same upload goes through.
  sync::Replica replica(":memory:", world.clock);
  const std::string token = enroll(world.registry, replica, world.other_org, "reporter");
  replica.put(form_records::kSubmissionsCollection, "s1",
              {{"attachments", {{"leak.bin", {{"sha256", manifest.sha256}, {"size", content.size()}}}}}});
  InProcessTransport link(world.registry);
  sync::SyncEngine(replica, link, token).run();
  sync::BlobTransfer transfer(elsewhere_files, link, token, no_waiting());
  CHECK(transfer.upload({manifest.sha256})[0].bytes_moved == content.size());
  // A record of another organization naming it does not open the door for this one.
  CHECK(world.get_file(manifest.sha256, world.token_of(world.org)).status == 404);
}

namespace {

Json finalized_with(const std::string& name, const form_records::Attachment& file) {
  return Json{{"state", form_records::kFinalized}, {"attachments", form_records::attachments_json({{name, file}})}};
}

}  // namespace

TEST_CASE("attachment sync: a file the registry refuses stays on the device with the reason; the others go") {
  SendingWorld world;
  client::AttachmentStore files(world.home);
  const auto [big_name, big] = files.add(world.file("big.jpg", random_bytes(3000, 11)), "photo");
  const auto [small_name, small] = files.add(world.file("small.jpg", random_bytes(2000, 12)), "photo");
  world.home.replica().put(form_records::kSubmissionsCollection, "s-big", finalized_with(big_name, big));
  world.home.replica().put(form_records::kSubmissionsCollection, "s-small", finalized_with(small_name, small));

  InterceptingTransport limited(world.transport, "/v1/blobs/" + big.sha256 + "/manifest", 413,
                               "files are at most 1 MB here");
  const client::HomeSyncReport report = world.home.sync(limited);  // not a failed sync
  CHECK(report.attachments.sent() == 1);
  CHECK(report.attachments.refused() == 1);
  CHECK(world.registry.blobs->store().contains(small.sha256));
  CHECK_FALSE(world.registry.blobs->store().contains(big.sha256));
  CHECK(world.home.replica().status().last_sync_result == "ok");
  const std::vector<client::RefusedUpload> refused = files.refused_uploads();
  REQUIRE(refused.size() == 1);
  CHECK(refused[0].sha256 == big.sha256);
  CHECK_MESSAGE(refused[0].reason.find("files are at most 1 MB here") != std::string::npos, refused[0].reason);
  CHECK_FALSE(files.path(big.sha256).empty());  // kept

  std::string out, err;
  REQUIRE(world.run({"status"}, out, err) == 0);
  CHECK(Json::parse(out)["refused_files"] == 1);
  REQUIRE(world.run({"refused"}, out, err) == 0);
  CHECK(Json::parse(out)["file"] == big.sha256);
  REQUIRE(world.run({"storage"}, out, err) == 0);
  CHECK(Json::parse(out)["attachment_bytes"] == 3000 + 2000);

  // Asked again at the next sync: accepted now, it is sent and no longer listed.
  const client::HomeSyncReport again = world.home.sync(world.transport);
  CHECK(again.attachments.sent() == 1);
  CHECK(world.registry.blobs->store().contains(big.sha256));
  CHECK(files.refused_uploads().empty());
}

TEST_CASE("attachment sync: the files of a submission the registry refused stay on the device and hold up nothing") {
  SendingWorld world;
  // Another organization's submission already has the id "s-taken".
  {
    sync::Replica elsewhere(":memory:", world.clock);
    const std::string token = enroll(world.registry, elsewhere, world.other_org, "reporter");
    elsewhere.put(form_records::kSubmissionsCollection, "s-taken", {{"state", form_records::kFinalized}});
    InProcessTransport link(world.registry);
    sync::SyncEngine(elsewhere, link, token).run();
  }
  client::AttachmentStore files(world.home);
  const auto [taken_name, taken] = files.add(world.file("taken.jpg", random_bytes(3000, 13)), "photo");
  const auto [mine_name, mine] = files.add(world.file("mine.jpg", random_bytes(2000, 14)), "photo");
  world.home.replica().put(form_records::kSubmissionsCollection, "s-taken", finalized_with(taken_name, taken));
  world.home.replica().put(form_records::kSubmissionsCollection, "s-mine", finalized_with(mine_name, mine));

  const client::HomeSyncReport report = world.home.sync(world.transport);
  CHECK(report.records.refused_changes == 1);
  CHECK(report.attachments.sent() == 1);     // s-mine's
  CHECK(report.attachments.refused() == 0);  // s-taken's is not even offered: no record of ours names it
  CHECK(world.registry.blobs->store().contains(mine.sha256));
  CHECK_FALSE(world.registry.blobs->store().contains(taken.sha256));
  CHECK_FALSE(files.path(taken.sha256).empty());
  CHECK(files.waiting_uploads().empty());
  CHECK(world.home.sync(world.transport).attachments.files.empty());
  CHECK(world.home.replica().status().last_sync_result == "ok");
}

TEST_CASE("attachment sync: a registry failing on files is trouble there, not offline; the records went") {
  SendingWorld world;
  client::AttachmentStore files(world.home);
  const auto [name, file] = files.add(world.file("site.jpg", random_bytes(2000, 15)), "photo");
  world.home.replica().put(form_records::kSubmissionsCollection, "s-site", finalized_with(name, file));

  InterceptingTransport failing(world.transport, "/v1/blobs/", 503, "file storage is down");
  sync::SyncOptions options;
  options.max_attempts = 2;
  options.sleep = [](std::chrono::milliseconds) {};
  try {
    world.home.sync(failing, options);
    FAIL("the sync should fail");
  } catch (const sync::SyncError& error) {
    CHECK(error.retryable());
    CHECK(error.http_status() == 503);
    CHECK(std::string(error.what()).find("file storage is down") != std::string::npos);
  }
  CHECK(world.home.replica().status().pending_changes == 0);
  CHECK(files.waiting_uploads() == std::vector<std::string>{file.sha256});
}
