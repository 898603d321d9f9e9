// The window's app model without a window: each command applied to a real Home in a temporary
// directory, against a registry in this process (or none at all); the sync schedule; the worker
// thread; interface text.

#include <doctest/doctest.h>
#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>

#include "client/app/app_model.h"
#include "client/app/assets.h"
#include "client/app/i18n.h"
#include "client/app/sync_schedule.h"
#include "client/app/text.h"
#include "client/app/worker.h"
#include "client/attachments.h"
#include "client/cli.h"
#include "form_records/form_records.h"
#include "forms/xlsform_reader.h"
#include "platform/files.h"
#include "registry/materials.h"
#include "support/published_forms.h"
#include "support/temp_dir.h"
#include "support/transfer_data.h"
#include "support/world.h"

namespace {

using namespace outpost;
using namespace std::chrono_literals;
using app::AppModel;
using app::Resolution;
using app::SyncOutcome;
using sync::Json;

constexpr char kRegistryUrl[] = "http://registry.test";
constexpr char kNobodyUrl[] = "http://127.0.0.1:1";  // nothing listens there: connection refused

using TempHome = test::TempDir;

// A registry in this process, reached at kRegistryUrl; every other address goes to libcurl.
struct Registry {
  test::TempDir files;  // the files it receives
  test::InProcessRegistry registry{SystemClock::instance(), ":memory:", files.file("blobs")};
  std::string org = registry.registry.add_org("Field Team").id;
  // Requests under this path get `intercepted_status` instead of reaching the registry.
  std::string intercepted_path;
  int intercepted_status = 0;

  std::string invite() {
    return registry.registry.invite(registry::Registry::cli_admin(), org, registry::Role::Field);
  }
  client::TransportFactory curl = client::curl_transport_factory();  // the app's own: outpost-curl.so
  client::TransportFactory transports() {
    return [this](const std::string& url) -> std::unique_ptr<sync::Transport> {
      if (url != kRegistryUrl) return curl(url);
      auto direct = std::make_unique<test::InProcessTransport>(registry);
      if (intercepted_path.empty()) return direct;
      return std::make_unique<test::InterceptingTransport>(std::move(direct), intercepted_path, intercepted_status,
                                                           "files are at most 1 MB here");
    };
  }
  AppModel::Options options() {
    AppModel::Options options;
    options.transports = transports();
    options.sync.max_attempts = 1;
    options.sync.sleep = [](std::chrono::milliseconds) {};
    return options;
  }
  // Another device of the organization, driven through the core.
  test::TestDevice device(const std::string& name) {
    test::TestDevice device;
    device.clock = std::make_unique<ManualClock>(SystemClock::instance().now_ms());
    device.replica = std::make_unique<sync::Replica>(":memory:", *device.clock);
    device.transport = std::make_unique<test::InProcessTransport>(registry);
    device.token = test::enroll(registry, *device.replica, org, name);
    return device;
  }
};

// A home enrolled (through the core) in `registry`.
void enroll_home(const std::string& directory, Registry& registry) {
  client::Home home(directory);
  test::InProcessTransport transport(registry.registry);
  home.enroll(kRegistryUrl, registry.invite(), "tablet", transport);
}

std::string field_value(const app::AppState& state, const std::string& field) {
  REQUIRE(state.record);
  for (const app::FieldView& view : state.record->fields)
    if (view.name == field) return view.value;
  FAIL("the record has no field " << field);
  return "";
}

void load_english() { app::translator().load(app::i18n_directory(), "en"); }

}  // namespace

// --- Enrollment

TEST_CASE("app model: HTTP goes through the module outpost-curl.so; a refused connection is a TransportError") {
  const std::unique_ptr<sync::Transport> transport = client::curl_transport_factory()(kNobodyUrl);
  sync::HttpRequest request;
  request.path = "/v1/sync";
  CHECK_THROWS_AS(transport->send(request), sync::TransportError);
}

TEST_CASE("app model: enrolling explains a bad address, a missing or refused code, an unreachable registry") {
  TempHome home;
  Registry registry;
  AppModel model(home.path(), registry.options());
  auto problem_after = [&](const std::string& url, const std::string& code) {
    const app::Effect effect = model.apply(app::Enroll{url, code});
    CHECK_FALSE(effect.enrolled);
    CHECK_FALSE(model.enrolled());
    REQUIRE(model.state().enroll_problem);
    return model.state().enroll_problem->key;
  };
  CHECK(problem_after("registry.example.org", "CODE") == "problem.bad_url");
  CHECK(problem_after("http://", "CODE") == "problem.bad_url");
  CHECK(problem_after("http://registry test", "CODE") == "problem.bad_url");
  CHECK(problem_after(kRegistryUrl, "  \n") == "problem.no_code");
  CHECK(problem_after(kRegistryUrl, "NOT-A-CODE") == "problem.code_refused");
  CHECK(problem_after(kNobodyUrl, registry.invite()) == "problem.enroll_unreachable");
  CHECK_FALSE(model.state().enroll_problem->detail.empty());  // the core's sentence, for support
}

TEST_CASE("app model: a pasted address and code enroll the device, once") {
  TempHome home;
  Registry registry;
  AppModel model(home.path(), registry.options());
  const app::Effect effect = model.apply(app::Enroll{std::string(" ") + kRegistryUrl + " \n", " " + registry.invite() + "\n"});
  CHECK(effect.enrolled);
  CHECK_FALSE(model.state().enroll_problem);
  REQUIRE(model.state().enrollment);
  CHECK(model.state().enrollment->registry_url == kRegistryUrl);
  CHECK(model.state().enrollment->org_name == "Field Team");
  CHECK(model.state().connection == app::Connection::Online);

  model.apply(app::Enroll{kRegistryUrl, registry.invite()});
  REQUIRE(model.state().enroll_problem);
  CHECK(model.state().enroll_problem->key == "problem.already_enrolled");
}

// --- Sync

TEST_CASE("app model: a sync with no registry to reach reports offline and keeps the work") {
  TempHome home;
  {
    client::Home core(home.path());
    core.replica().set_settings({{"token", "t0ken"}, {"registry_url", kNobodyUrl}});
    core.replica().put("submissions", "hh-1", {{"household", "Amina"}});
  }
  Registry registry;
  AppModel model(home.path(), registry.options());
  const app::Effect effect = model.apply(app::SyncNow{});
  REQUIRE(effect.synced);
  CHECK(*effect.synced == SyncOutcome::RetryLater);
  const app::AppState& state = model.state();
  REQUIRE(state.sync.problem);
  CHECK(state.sync.problem->key == "problem.offline");
  CHECK(state.connection == app::Connection::Offline);
  CHECK_FALSE(state.sync.running);
  CHECK(state.sync.finished == 1);
  CHECK(state.status.pending_changes == 1);
  CHECK(state.status.last_sync_ms.has_value());
  CHECK(state.status.last_sync_result.value_or("ok") != "ok");
}

TEST_CASE("app model: a sync before enrollment needs the user") {
  TempHome home;
  Registry registry;
  AppModel model(home.path(), registry.options());
  CHECK(model.sync() == SyncOutcome::NeedsUser);
  REQUIRE(model.state().sync.problem);
  CHECK(model.state().sync.problem->key == "problem.not_enrolled");
}

TEST_CASE("app model: Sync now sends and receives, showing progress, counts and bytes") {
  TempHome home;
  Registry registry;
  test::TestDevice colleague = registry.device("colleague");
  for (int i = 0; i < 30; ++i)
    colleague.replica->put("submissions", "s-" + std::to_string(100 + i), {{"household", "H" + std::to_string(i)}});
  colleague.sync();

  enroll_home(home.path(), registry);
  {
    client::Home core(home.path());
    core.replica().put("incidents", "inc-1", {{"kind", "flood"}}, 10);
  }
  int progress_calls = 0;
  AppModel::Options options = registry.options();
  options.on_progress = [&] { ++progress_calls; };
  AppModel model(home.path(), std::move(options));
  REQUIRE(model.state().urgent.size() == 1);
  CHECK(model.state().urgent[0].id == "inc-1");
  CHECK(model.state().urgent[0].priority == 10);

  const app::Effect effect = model.apply(app::SyncNow{});
  REQUIRE(effect.synced);
  CHECK(*effect.synced == SyncOutcome::Synced);
  const app::AppState& state = model.state();
  CHECK_FALSE(state.sync.problem);
  CHECK(state.connection == app::Connection::Online);
  CHECK(state.sync.report.pushed_changes == 1);
  CHECK(state.sync.report.pulled_records == 30);
  CHECK(state.sync.report.bytes_sent > 0);
  CHECK(state.sync.report.bytes_received > 0);
  CHECK(state.sync.pending_at_start == 1);
  CHECK(progress_calls >= 2);  // as it started, and after the batch
  CHECK(state.status.pending_changes == 0);
  CHECK(state.urgent.empty());
  CHECK(state.status.last_sync_result == "ok");
  const auto submissions = std::find_if(state.collections.begin(), state.collections.end(),
                                        [](const app::CollectionSummary& c) { return c.name == "submissions"; });
  REQUIRE(submissions != state.collections.end());
  CHECK(submissions->records == 30);
}

// --- Conflicts

namespace {

// A home whose record submissions/hh-1 has a conflict on each of `fields`: the home's values
// ("ours-FIELD") won; a colleague's ("theirs-FIELD"), written at the same time, lost.
void prepare_conflicts(const std::string& directory, Registry& registry, test::TestDevice& colleague,
                       const std::vector<std::string>& fields) {
  enroll_home(directory, registry);
  client::Home home(directory);
  test::InProcessTransport transport(registry.registry);
  Json original = Json::object();
  for (const std::string& field : fields) original[field] = "original-" + field;
  home.replica().put("submissions", "hh-1", original);
  home.sync(transport);
  colleague.sync();
  Json theirs = Json::object();
  Json ours = Json::object();
  for (const std::string& field : fields) {
    theirs[field] = "theirs-" + field;
    ours[field] = "ours-" + field;
  }
  colleague.replica->put("submissions", "hh-1", theirs);
  colleague.sync();
  home.replica().put("submissions", "hh-1", ours);  // later: wins, but did not see theirs
  home.sync(transport);
  home.sync(transport);
  REQUIRE(home.replica().conflicts().size() == fields.size());
}

}  // namespace

TEST_CASE("app model: a conflict is resolved by keeping one value, the other, or a typed one") {
  TempHome home;
  Registry registry;
  test::TestDevice colleague = registry.device("colleague");
  prepare_conflicts(home.path(), registry, colleague, {"members", "name", "notes"});
  AppModel model(home.path(), registry.options());
  const auto conflicts = model.state().conflicts;
  REQUIRE(conflicts->size() == 3);
  auto conflict_on = [&](const std::string& field) {
    for (const app::ConflictView& conflict : *conflicts)
      if (conflict.field == field) return conflict;
    FAIL("no conflict on " << field);
    return app::ConflictView{};
  };
  const app::ConflictView members = conflict_on("members");
  CHECK(members.kept.value == "ours-members");
  CHECK(members.lost.value == "theirs-members");
  CHECK(members.lost.by.rfind("colleague", 0) == 0);  // the device's name, then its id
  CHECK(members.kept.at_ms > 0);
  CHECK_FALSE(members.about_deletion);

  SUBCASE("keep the value the record holds") {
    const app::Effect effect = model.apply(app::ResolveConflict{members.id, Resolution::KeepKept, ""});
    CHECK(effect.local_change);
    model.apply(app::SelectRecord{"submissions", "hh-1"});
    CHECK(field_value(model.state(), "members") == "ours-members");
  }
  SUBCASE("keep the value that lost") {
    model.apply(app::ResolveConflict{conflict_on("name").id, Resolution::KeepLost, ""});
    model.apply(app::SelectRecord{"submissions", "hh-1"});
    CHECK(field_value(model.state(), "name") == "theirs-name");
  }
  SUBCASE("keep a typed value") {
    model.apply(app::ResolveConflict{conflict_on("notes").id, Resolution::Merged, R"("ours and theirs")"});
    model.apply(app::SelectRecord{"submissions", "hh-1"});
    CHECK(field_value(model.state(), "notes") == "ours and theirs");
  }
  CHECK_FALSE(model.state().resolve_problem);
  CHECK(model.state().conflicts->size() == 2);
  CHECK(model.state().status.open_conflicts == 2);
  CHECK(model.state().status.pending_changes > 0);

  // The choice travels: after a sync each way the colleague holds no open conflict either.
  CHECK(model.apply(app::SyncNow{}).synced == SyncOutcome::Synced);
  colleague.sync();
  CHECK(colleague.replica->conflicts().size() == 2);
}

TEST_CASE("app model: a typed value that is not JSON, or a settled conflict, changes nothing") {
  TempHome home;
  Registry registry;
  test::TestDevice colleague = registry.device("colleague");
  prepare_conflicts(home.path(), registry, colleague, {"members"});
  AppModel model(home.path(), registry.options());
  const std::string id = model.state().conflicts->front().id;
  const int64_t pending = model.state().status.pending_changes;

  const app::Effect effect = model.apply(app::ResolveConflict{id, Resolution::Merged, "ours and theirs"});
  CHECK_FALSE(effect.local_change);
  REQUIRE(model.state().resolve_problem);
  CHECK(model.state().resolve_problem->subject == id);
  CHECK(model.state().resolve_problem->problem.key == "problem.bad_merged_value");
  CHECK(model.state().resolve_problem->problem.params.at(0).first == "position");
  CHECK(model.state().conflicts->size() == 1);
  CHECK(model.state().status.pending_changes == pending);

  model.apply(app::ResolveConflict{id, Resolution::KeepKept, ""});
  CHECK_FALSE(model.state().resolve_problem);
  model.apply(app::ResolveConflict{id, Resolution::KeepLost, ""});
  REQUIRE(model.state().resolve_problem);
  CHECK(model.state().resolve_problem->problem.key == "problem.conflict_gone");
}

// --- Browsing, preferences, storage

TEST_CASE("app model: records are browsed by collection, with who wrote each field") {
  TempHome home;
  {
    client::Home core(home.path());
    core.replica().put("submissions", "b", {{"household", "Bilal"}, {"members", 4}});
    core.replica().put("submissions", "a", {{"household", "Amina"}, {"note", "\u0645\u0631\u062d\u0628\u0627"}});
    core.replica().put("submissions", "c", {{"household", "Gone"}});
    core.replica().remove("submissions", "c");
  }
  Registry registry;
  AppModel model(home.path(), registry.options());
  model.apply(app::OpenCollection{"submissions"});
  REQUIRE(model.state().records);
  const auto& rows = model.state().records->rows;
  CHECK(model.state().records->total == 2);
  REQUIRE(rows.size() == 2);  // the deleted one is not listed
  CHECK(rows[0].id == "a");
  CHECK(rows[1].id == "b");
  CHECK(rows[1].preview.find("household: Bilal") != std::string::npos);
  CHECK(rows[1].preview.find("members: 4") != std::string::npos);
  CHECK(rows[0].preview.find("note: \u2026") != std::string::npos);  // Arabic: not drawn unshaped

  model.apply(app::SelectRecord{"submissions", "a"});
  REQUIRE(model.state().record);
  CHECK(model.state().record->fields.size() == 2);
  for (const app::FieldView& field : model.state().record->fields) {
    CHECK(field.written_by == model.state().replica_id);
    CHECK(field.right_to_left == (field.name == "note"));
  }
  model.apply(app::SelectRecord{"submissions", "nobody"});
  CHECK_FALSE(model.state().record);

  model.apply(app::OpenCollection{"unknown"});
  REQUIRE(model.state().records);
  CHECK(model.state().records->rows.empty());
}

namespace {
std::string padded_id(int i) {
  char id[16];
  std::snprintf(id, sizeof id, "r%04d", i);
  return id;
}

int64_t collection_count(const app::AppState& state, const std::string& name) {
  for (const app::CollectionSummary& collection : state.collections)
    if (collection.name == name) return collection.records;
  FAIL("no collection " << name);
  return -1;
}
}  // namespace

TEST_CASE("app model: a write the registry refuses is shown with its reason, and the others are sent") {
  TempHome home;
  Registry registry;
  enroll_home(home.path(), registry);
  {
    client::Home core(home.path());
    core.replica().put("forms", "intake@1", {{"title", "Mine"}});  // the registry publishes forms
    core.replica().put("notes", "n-1", {{"text", "goes"}});
  }
  AppModel model(home.path(), registry.options());
  REQUIRE(model.apply(app::SyncNow{}).synced == SyncOutcome::Synced);
  CHECK(model.state().status.pending_changes == 0);
  CHECK(model.state().status.refused_changes == 1);
  REQUIRE(model.state().refused.size() == 1);
  CHECK(model.state().refused[0].id == "intake@1");
  CHECK(model.state().refused[0].message.find("published by the registry") != std::string::npos);
}

TEST_CASE("app model: a file the registry refuses is shown with its reason; its submission went") {
  TempHome home;
  Registry registry;
  enroll_home(home.path(), registry);
  std::string sha256;
  {
    client::Home core(home.path());
    client::AttachmentStore files(core);
    files::write_file_atomic(home.file("big.jpg"), std::string(3000, 'x'));
    const auto [name, file] = files.add(home.file("big.jpg"), "photo");
    sha256 = file.sha256;
    core.replica().put(form_records::kSubmissionsCollection, "s-big",
                       {{"state", form_records::kFinalized}, {"attachments", form_records::attachments_json({{name, file}})}});
  }
  registry.intercepted_path = "/v1/blobs/" + sha256 + "/manifest";
  registry.intercepted_status = 413;
  AppModel model(home.path(), registry.options());
  REQUIRE(model.apply(app::SyncNow{}).synced == SyncOutcome::Synced);
  CHECK_FALSE(model.state().sync.problem);
  CHECK(model.state().status.pending_changes == 0);
  CHECK(model.state().refused_files_total == 1);
  REQUIRE(model.state().refused_files.size() == 1);
  CHECK(model.state().refused_files[0].sha256 == sha256);
  CHECK(model.state().refused_files[0].reason.find("files are at most 1 MB here") != std::string::npos);

  registry.intercepted_path.clear();  // accepted now: sent, and no longer shown
  REQUIRE(model.apply(app::SyncNow{}).synced == SyncOutcome::Synced);
  CHECK(model.state().refused_files_total == 0);
  CHECK(model.state().refused_files.empty());
}

TEST_CASE("app model: a long collection is read one window of rows at a time, counted from an index") {
  TempHome home;
  Registry registry;
  test::TestDevice colleague = registry.device("colleague");
  enroll_home(home.path(), registry);
  {
    client::Home core(home.path());
    for (int i = 0; i < 300; ++i) core.replica().put("submissions", padded_id(i), {{"n", i}});
    for (int i = 0; i < 10; ++i) core.replica().remove("submissions", padded_id(i * 2));  // r0000, r0002 ... r0018
  }
  AppModel model(home.path(), registry.options());
  auto ids = [&] {
    std::vector<std::string> out;
    for (const app::RecordRow& row : model.state().records->rows) out.push_back(row.id);
    return out;
  };

  model.apply(app::OpenCollection{"submissions", 0, 5});
  const app::RecordList* list = model.state().records.get();
  CHECK(list->total == 290);
  CHECK(list->first == 0);
  CHECK(ids() == std::vector<std::string>{"r0299", "r0298", "r0297", "r0296", "r0295"});  // newest first
  CHECK(list->row(4)->id == "r0295");
  CHECK_FALSE(list->row(5));
  CHECK_FALSE(list->row(-1));

  model.apply(app::OpenCollection{"submissions", 100, 3});
  list = model.state().records.get();
  CHECK(list->first == 100);
  CHECK(ids() == std::vector<std::string>{"r0199", "r0198", "r0197"});
  CHECK(list->row(101)->id == "r0198");
  CHECK_FALSE(list->row(99));
  CHECK(list->rows[0].preview == "n: 199");

  model.apply(app::OpenCollection{"submissions", 1000, 4});  // past the end: the last rows
  list = model.state().records.get();
  CHECK(list->first == 286);
  CHECK(ids() == std::vector<std::string>{"r0007", "r0005", "r0003", "r0001"});  // deleted ones skipped

  model.apply(app::OpenCollection{"submissions", 0, 1'000'000});  // a window never holds the whole of a long list
  CHECK(model.state().records->rows.size() == 290);
  CHECK(collection_count(model.state(), "submissions") == 290);

  // A sync brings records from a colleague: the count, the collections and the open window follow.
  model.apply(app::OpenCollection{"submissions", 2, 3});
  for (int i = 0; i < 4; ++i) colleague.replica->put("submissions", "a-" + std::to_string(i), {{"from", "colleague"}});
  colleague.replica->put("incidents", "inc-1", {{"kind", "flood"}});
  colleague.sync();
  REQUIRE(model.apply(app::SyncNow{}).synced == SyncOutcome::Synced);
  list = model.state().records.get();
  CHECK(list->total == 294);
  CHECK(list->first == 2);
  REQUIRE(list->rows.size() >= 3);  // the window keeps its place (at least as many rows as the list shows)
  CHECK(list->rows[0].id == "a-1");  // the colleague's, received last, come first
  CHECK(list->rows[1].id == "a-0");
  CHECK(list->rows[2].id == "r0299");
  CHECK(collection_count(model.state(), "incidents") == 1);
  CHECK(collection_count(model.state(), "submissions") == 294);
}

TEST_CASE("app model: long lists of submissions and materials are read a window at a time") {
  TempHome home;
  {
    client::Home core(home.path());
    for (int i = 0; i < 300; ++i) {
      core.replica().put("submissions", padded_id(i),
                         {{"form_id", "household"}, {"state", i % 3 == 0 ? "draft" : "finalized"}});
      sync::MaterialInfo info;
      info.title = "Guide " + padded_id(i);
      info.lang = i % 2 ? "fr" : "en";
      info.tags = {i % 5 ? "wash" : "shelter"};
      info.file_name = "guide.md";
      info.media_type = "text/markdown";
      info.size = 100;
      info.sha256 = std::string(64, 'a');
      info.chunk_size = 65536;
      core.replica().put("materials", "mat_" + padded_id(i), info.to_fields());
    }
  }
  Registry registry;
  AppModel model(home.path(), registry.options());

  model.apply(app::ListForms{});
  const auto* submissions = &model.state().forms->submissions;
  CHECK(submissions->total == 300);
  CHECK(submissions->rows.size() == app::kListWindow);
  CHECK(submissions->rows[0].id == "r0299");  // the newest first
  CHECK(model.state().forms->drafts == 100);
  model.apply(app::ListForms{250, 50});  // scrolled to the end
  submissions = &model.state().forms->submissions;
  CHECK(submissions->first == 250);
  REQUIRE(submissions->rows.size() == 50);
  CHECK(submissions->row(250)->id == "r0049");
  CHECK(submissions->row(251)->state == app::SubmissionState::Draft);  // r0048
  CHECK(submissions->row(252)->state == app::SubmissionState::Finalized);  // waiting in the outbox
  CHECK(model.state().forms->drafts == 100);

  model.apply(app::SearchLibrary{{}, 0, 100});
  const auto* hits = &model.state().library->hits;
  CHECK(hits->total == 300);
  CHECK(hits->rows.size() == 100);
  CHECK(hits->rows[0].material.info.title == "Guide r0000");  // by title
  CHECK(model.state().library->languages == std::vector<std::string>{"en", "fr"});
  CHECK(model.state().library->themes == std::vector<std::string>{"shelter", "wash"});
  model.apply(app::SearchLibrary{{"", "fr", "shelter"}, 20, 100});  // odd numbers that are multiples of 5
  hits = &model.state().library->hits;
  CHECK(hits->total == 30);
  CHECK(hits->first == 0);  // a window past what the filter leaves starts where it still shows rows
  CHECK(hits->rows.size() == 30);
  CHECK(hits->rows[1].material.id == "mat_r0015");
}

TEST_CASE("app model: the language and text size stay with the home") {
  TempHome home;
  Registry registry;
  {
    AppModel model(home.path(), registry.options());
    CHECK(model.state().preferences.language.empty());
    CHECK(model.state().preferences.text_scale == 1.0);
    model.apply(app::SetLanguage{"fr"});
    model.apply(app::SetTextScale{1.5});
  }
  AppModel model(home.path(), registry.options());
  CHECK(model.state().preferences.language == "fr");
  CHECK(model.state().preferences.text_scale == 1.5);
  model.apply(app::SetTextScale{100});
  CHECK(model.state().preferences.text_scale == 3.0);
  model.apply(app::SetTextScale{std::nan("")});
  CHECK(model.state().preferences.text_scale == 1.0);
}

TEST_CASE("app model: storage is counted per kind of data") {
  TempHome home;
  {
    client::Home core(home.path());
    for (int i = 0; i < 5; ++i) core.replica().put("submissions", "s" + std::to_string(i), {{"text", std::string(100, 'x')}});
    core.replica().put("incidents", "i1", {{"kind", "fire"}});
    files::write_file_atomic(home.file("photo.jpg"), std::string(12'345, 'p'));
    client::AttachmentStore(core).add(home.file("photo.jpg"), "photo");
  }
  Registry registry;
  AppModel model(home.path(), registry.options());
  CHECK(model.state().storage.measured_ms == 0);  // it reads every record: only when asked
  model.apply(app::MeasureStorage{});
  const app::StorageUse& storage = model.state().storage;
  CHECK(storage.database_bytes > 0);
  CHECK(storage.attachment_bytes == 12'345);  // the photos too, not only the records
  CHECK(storage.library_bytes == 0);
  CHECK(storage.total_bytes() == storage.database_bytes + 12'345);
  CHECK(storage.measured_ms > 0);
  REQUIRE(storage.collections.size() == 2);
  CHECK(storage.collections[1].collection == "submissions");
  CHECK(storage.collections[1].records == 5);
  CHECK(storage.collections[1].bytes > 500);
  REQUIRE(model.state().collections.size() == 2);
  CHECK(model.state().collections[0].name == "incidents");
}

// --- The library

namespace {

// A registry serving three materials (Markdown, text, a photo) to a home enrolled and synced.
struct LibraryWorld {
  TempHome home;
  test::TempDir files{"outpost-app-library"};
  test::InProcessRegistry registry{SystemClock::instance(), ":memory:", files.file("blobs")};
  registry::Materials materials{registry.registry, *registry.blobs, SystemClock::instance()};
  std::string org = registry.registry.add_org("Trainers").id;
  std::map<std::string, std::string> ids;  // file name -> material id
  std::vector<std::string> opened;         // paths given to the system's viewer
  int progress_calls = 0;

  LibraryWorld() {
    add("guide.md", "---\ntitle: Ignored\n---\n# Water points\n\nKeep **clean** records.\n\n- first\n- second\n",
        "Water guide", "en", {"wash"});
    add("notes.txt", "Line one\nline two\n\nSecond paragraph\n", "Field notes", "fr", {"training"});
    add("photo.jpg", std::string(300'000, 'x'), "Workshop photo", "en", {"training"});
    client::Home core(home.path());
    test::InProcessTransport transport(registry);
    core.enroll(kRegistryUrl, registry.registry.invite(registry::Registry::cli_admin(), org, registry::Role::Field),
                "tablet", transport);
    core.sync(transport);
  }

  void add(const std::string& name, const std::string& content, const std::string& title, const std::string& lang,
           std::vector<std::string> tags) {
    files::write_file_atomic(files.file(name), content);
    registry::MaterialSource source;
    source.file = files.file(name);
    source.title = title;
    source.lang = lang;
    source.tags = std::move(tags);
    ids[name] = materials.add(source).id;
  }

  AppModel::Options options() {
    AppModel::Options options;
    options.transports = [this](const std::string&) { return std::make_unique<test::InProcessTransport>(registry); };
    options.sync.max_attempts = 1;
    options.sync.sleep = [](std::chrono::milliseconds) {};
    options.open_externally = [this](const std::string& path) { opened.push_back(path); };
    options.on_download_progress = [this] { ++progress_calls; };
    return options;
  }
};

const client::Material& listed(const AppModel& model, const std::string& id) {
  for (const client::SearchHit& hit : model.state().library->hits.rows)
    if (hit.material.id == id) return hit.material;
  FAIL("material " << id << " is not listed");
  throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("app model: a sync that brings materials indexes them before the library is opened") {
  LibraryWorld world;
  AppModel model(world.home.path(), world.options());
  world.add("plan.md", "# Plan\n", "Contingency plan", "es", {"wash"});
  REQUIRE(model.apply(app::SyncNow{}).synced == SyncOutcome::Synced);
  CHECK(model.state().library->hits.rows.empty());  // the screen has not asked
  client::Home core(world.home.path());
  auto& indexed = core.replica().database().prepare(
      "SELECT count(*) FROM library_entries WHERE material=?");
  indexed.bind(1, world.ids["plan.md"]);
  REQUIRE(indexed.step());
  CHECK(indexed.int64(0) == 1);
  indexed.reset();
}

TEST_CASE("app model: the library is searched and filtered by language and theme") {
  LibraryWorld world;
  AppModel model(world.home.path(), world.options());
  CHECK(model.state().library->hits.rows.empty());  // nothing read before the screen asks
  model.apply(app::SearchLibrary{});
  const auto list = [&]() -> const app::LibraryList& { return *model.state().library; };
  CHECK(list().hits.rows.size() == 3);
  CHECK(list().languages == std::vector<std::string>{"en", "fr"});
  CHECK(list().themes == std::vector<std::string>{"training", "wash"});

  model.apply(app::SearchLibrary{{"", "fr", ""}});
  REQUIRE(list().hits.rows.size() == 1);
  CHECK(list().hits.rows[0].material.id == world.ids["notes.txt"]);
  model.apply(app::SearchLibrary{{"", "", "training"}});
  CHECK(list().hits.rows.size() == 2);
  model.apply(app::SearchLibrary{{"", "en", "training"}});
  CHECK(list().hits.rows.size() == 1);

  model.apply(app::SearchLibrary{{"wat", "", ""}});  // a word's beginning is enough
  REQUIRE(list().hits.rows.size() == 1);
  CHECK(list().hits.rows[0].material.id == world.ids["guide.md"]);
  CHECK(list().filter.query == "wat");
  model.apply(app::SearchLibrary{{"water", "fr", ""}});
  CHECK(list().hits.rows.empty());
  CHECK_FALSE(model.state().library_problem);
}

TEST_CASE("app model: materials are pinned with progress, read in the app or the system viewer, unpinned, evicted") {
  LibraryWorld world;
  AppModel model(world.home.path(), world.options());
  model.apply(app::SearchLibrary{});
  const std::string guide = world.ids["guide.md"];
  const std::string notes = world.ids["notes.txt"];
  const std::string photo = world.ids["photo.jpg"];

  model.apply(app::OpenMaterial{guide});  // not downloaded yet
  REQUIRE(model.state().library_problem);
  CHECK(model.state().library_problem->subject == guide);
  CHECK(model.state().library_problem->problem.key == "problem.open_failed");

  model.apply(app::PinMaterial{guide});
  CHECK_FALSE(model.state().library_problem);
  CHECK(world.progress_calls >= 2);  // as it starts, and per verified chunk
  CHECK_FALSE(model.state().download);
  CHECK(listed(model, guide).pinned);
  CHECK(listed(model, guide).state == client::DownloadState::Downloaded);
  CHECK(model.state().library->used_bytes > 0);

  model.apply(app::OpenMaterial{guide});
  REQUIRE(model.state().reader);
  const auto& blocks = model.state().reader->blocks;
  CHECK(model.state().reader->title == "Water guide");
  REQUIRE(blocks.size() == 4);
  CHECK(blocks[0].kind == client::TextBlock::Kind::Heading);
  CHECK(blocks[0].level == 1);
  CHECK(blocks[0].text == "Water points");
  CHECK(blocks[1].kind == client::TextBlock::Kind::Paragraph);
  CHECK(blocks[1].text == "Keep clean records.");
  CHECK(blocks[2].kind == client::TextBlock::Kind::ListItem);
  CHECK(blocks[3].text == "second");
  model.apply(app::CloseReader{});
  CHECK_FALSE(model.state().reader);

  model.apply(app::PinMaterial{notes});
  model.apply(app::OpenMaterial{notes});
  REQUIRE(model.state().reader);
  REQUIRE(model.state().reader->blocks.size() == 2);
  CHECK(model.state().reader->blocks[0].text == "Line one line two");
  CHECK(world.opened.empty());

  model.apply(app::PinMaterial{photo});
  model.apply(app::OpenMaterial{photo});
  REQUIRE(world.opened.size() == 1);
  CHECK(std::filesystem::file_size(world.opened[0]) == 300'000);

  model.apply(app::UnpinMaterial{photo});
  CHECK_FALSE(listed(model, photo).pinned);
  CHECK(listed(model, photo).state == client::DownloadState::Downloaded);
  model.apply(app::EvictMaterial{notes});  // the reader showing it closes with it
  CHECK_FALSE(model.state().reader);
  CHECK(listed(model, notes).state == client::DownloadState::NotDownloaded);
}

TEST_CASE("app model: a download needs an enrolled device and says so") {
  TempHome home;
  Registry registry;
  AppModel model(home.path(), registry.options());
  model.apply(app::SearchLibrary{});
  CHECK(model.state().library->hits.rows.empty());
  model.apply(app::PinMaterial{"mat_x"});
  REQUIRE(model.state().library_problem);
  CHECK(model.state().library_problem->problem.key == "problem.not_enrolled");
}

// --- Forms

namespace {

const app::QuestionView* shown(const AppModel& model, const std::string& name, const forms::RepeatPath& path = {}) {
  for (const app::QuestionView& question : model.state().fill->questions)
    if (question.name == name && question.path == path && !question.entry_header) return &question;
  return nullptr;
}

// Goes to the page that shows `name`.
const app::QuestionView& page_of(AppModel& model, const std::string& name) {
  REQUIRE(model.state().fill);
  const std::vector<size_t> pages = model.state().fill->relevant_pages;
  for (size_t page : pages) {
    model.apply(app::GoToPage{page});
    if (const app::QuestionView* question = shown(model, name)) return *question;
  }
  FAIL("no page shows " << name);
  throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("app model: a form is filled page by page with live checks and calculations, autosaved, finalized") {
  TempHome home;
  {
    client::Home core(home.path());
    test::publish_form(core.replica(), "all_types");
    core.replica().put("submissions", "hh-1", {{"household", "not from a form"}});  // listed under its id
  }
  Registry registry;
  AppModel model(home.path(), registry.options());
  CHECK(model.state().forms->forms.empty());  // read once the screen asks
  model.apply(app::ListForms{});
  REQUIRE(model.state().forms->submissions.rows.size() == 1);
  CHECK(model.state().forms->submissions.rows[0].form_title == "hh-1");
  CHECK(model.state().forms->submissions.rows[0].state == app::SubmissionState::Finalized);  // waiting to go
  REQUIRE(model.state().forms->forms.size() == 1);
  CHECK(model.state().forms->forms[0].id == "all_types");
  CHECK_FALSE(model.state().forms->forms[0].urgent);

  CHECK(model.apply(app::StartSubmission{"all_types", "en"}).local_change);
  REQUIRE(model.state().fill);
  REQUIRE(model.state().forms->submissions.total == 2);  // saved as a draft at once, and listed first
  CHECK(model.state().forms->submissions.rows[0].state == app::SubmissionState::Draft);
  CHECK(collection_count(model.state(), "submissions") == 2);  // the records screen counts it too
  CHECK(model.state().forms->drafts == 1);
  CHECK(model.state().fill->relevant_pages.size() > 3);

  CHECK(page_of(model, "a_text").answer == "hello");  // the default
  CHECK(shown(model, "a_text")->required);
  model.apply(app::SetAnswer{"a_text", {}, std::string(60, 'x')});
  CHECK_FALSE(shown(model, "a_text")->error.empty());  // the constraint, beside the field
  model.apply(app::SetAnswer{"a_text", {}, "hi"});
  CHECK(shown(model, "a_text")->error.empty());
  model.apply(app::SetAnswer{"an_integer", {}, "abc"});
  CHECK_FALSE(shown(model, "an_integer")->error.empty());
  model.apply(app::SetAnswer{"an_integer", {}, "5"});
  const app::QuestionView& colour = *shown(model, "one_colour");
  CHECK(colour.choices.size() >= 2);
  CHECK_FALSE(colour.as_list);

  CHECK(page_of(model, "computed_text").answer == "hi!");  // recomputed as the answer changed
  CHECK(shown(model, "computed_text")->read_only);

  page_of(model, "visits");
  const size_t visits_before = shown(model, "visits")->entries;
  model.apply(app::AddRepeatEntry{"visits", {}});
  model.apply(app::AddRepeatEntry{"visits", {}});
  CHECK(shown(model, "visits")->entries == visits_before + 2);
  model.apply(app::RemoveRepeatEntry{"visits", {}, visits_before + 1});
  CHECK(shown(model, "visits")->entries == visits_before + 1);
  const app::QuestionView* visit_date = shown(model, "visit_date", {visits_before});
  REQUIRE(visit_date);
  CHECK(visit_date->required);

  model.apply(app::FinalizeSubmission{});  // the visit's date is missing
  REQUIRE(model.state().fill);
  CHECK_FALSE(model.state().fill->errors.empty());
  for (size_t entry = 0; entry <= visits_before; ++entry)
    model.apply(app::SetAnswer{"visit_date", {entry}, "2026-01-0" + std::to_string(entry + 1)});
  CHECK(model.apply(app::FinalizeSubmission{}).local_change);
  CHECK_FALSE(model.state().fill);
  REQUIRE(model.state().forms->submissions.total == 2);
  CHECK(model.state().forms->submissions.rows[0].state == app::SubmissionState::Finalized);  // waiting to be sent
  CHECK(model.state().forms->drafts == 0);
  CHECK(model.state().status.pending_records >= 1);
}

TEST_CASE("app model: a submission closed as a draft stays a draft; an unknown form says so") {
  TempHome home;
  {
    client::Home core(home.path());
    test::publish_form(core.replica(), "household_members");
  }
  Registry registry;
  AppModel model(home.path(), registry.options());
  model.apply(app::ListForms{});
  model.apply(app::StartSubmission{"nope", "en"});
  REQUIRE(model.state().forms_problem);
  CHECK(model.state().forms_problem->problem.key == "problem.form_unavailable");
  CHECK_FALSE(model.state().fill);

  model.apply(app::StartSubmission{model.state().forms->forms.at(0).id, "fr"});
  REQUIRE(model.state().fill);
  CHECK_FALSE(model.state().fill->labels_unreadable);
  model.apply(app::CloseSubmission{});
  CHECK_FALSE(model.state().fill);
  REQUIRE(model.state().forms->submissions.rows.size() == 1);
  CHECK(model.state().forms->submissions.rows[0].state == app::SubmissionState::Draft);
}

TEST_CASE("app model: the file browser's folders are read by the model, folders first, hidden entries left out") {
  TempHome home;
  test::TempDir photos("outpost-photos");
  std::filesystem::create_directory(photos.file("DCIM"));
  files::write_file_atomic(photos.file("well.jpg"), test::jpeg_bytes(1234, 9));
  files::write_file_atomic(photos.file(".thumbnail"), "hidden");
  Registry registry;
  AppModel model(home.path(), registry.options());
  CHECK_FALSE(model.state().folder);
  model.apply(app::ListFolder{photos.path()});
  REQUIRE(model.state().folder);
  const app::FolderListing& listing = *model.state().folder;
  CHECK(listing.folder == photos.path());
  REQUIRE(listing.entries.size() == 2);
  CHECK(listing.entries[0].name == "DCIM");
  CHECK(listing.entries[0].folder);
  CHECK(listing.entries[1].name == "well.jpg");
  CHECK(listing.entries[1].size == 1234);
  model.apply(app::ListFolder{photos.file("gone")});
  CHECK(model.state().folder->entries.empty());
  CHECK_FALSE(model.state().folder->error.empty());
}

TEST_CASE("app model: a draft reopens from the list on its first page with its answers and file, and finalizes") {
  TempHome home;
  {
    client::Home core(home.path());
    test::publish_form(core.replica(), "all_types");
  }
  test::TempDir photos("outpost-photos");
  files::write_file_atomic(photos.file("well.jpg"), test::jpeg_bytes(1234, 9));
  Registry registry;
  AppModel model(home.path(), registry.options());
  model.apply(app::ListForms{});
  model.apply(app::StartSubmission{"all_types", "en"});
  REQUIRE(model.state().fill);
  const std::string id = model.state().fill->submission_id;
  page_of(model, "a_text");
  model.apply(app::SetAnswer{"a_text", {}, "half done"});
  page_of(model, "an_image");
  model.apply(app::AttachFile{"an_image", {}, photos.file("well.jpg")});
  CHECK(shown(model, "an_image")->answer == "well.jpg");
  CHECK(shown(model, "an_image")->file_size == 1234);
  model.apply(app::AttachFile{"a_file", {}, photos.file("missing.pdf")});
  REQUIRE(model.state().forms_problem);
  CHECK(model.state().forms_problem->subject == "a_file");
  CHECK(model.state().forms_problem->problem.key == "problem.file_refused");
  CHECK(model.state().forms_problem->problem.detail == "a_file: no file " + photos.file("missing.pdf"));
  files::write_file_atomic(photos.file("notes.jpg"), "meeting notes, not a photo");
  model.apply(app::AttachFile{"an_image", {}, photos.file("notes.jpg")});
  REQUIRE(model.state().forms_problem);
  CHECK(model.state().forms_problem->subject == "an_image");
  CHECK(model.state().forms_problem->problem.detail.find("is not an image") != std::string::npos);
  CHECK(shown(model, "an_image")->answer == "well.jpg");  // the photo stays
  model.apply(app::CloseSubmission{});
  CHECK_FALSE(model.state().fill);
  std::filesystem::remove(photos.file("well.jpg"));  // the device has its own copy

  model.apply(app::ReopenSubmission{id, "en"});
  REQUIRE(model.state().fill);
  CHECK(model.state().fill->submission_id == id);
  CHECK(model.state().fill->page == 0);
  CHECK(page_of(model, "a_text").answer == "half done");
  model.apply(app::SetAnswer{"a_text", {}, "all done"});
  CHECK(page_of(model, "a_note").label == "The text was all done");  // ${a_text} in its label
  CHECK(page_of(model, "an_image").answer == "well.jpg");
  CHECK(model.apply(app::FinalizeSubmission{}).local_change);
  CHECK_FALSE(model.state().fill);
  REQUIRE(model.state().forms->submissions.rows.size() == 1);
  CHECK(model.state().forms->submissions.rows[0].state == app::SubmissionState::Finalized);
  {
    client::Home core(home.path());
    const Json fields = core.replica().get(form_records::kSubmissionsCollection, id)->values();
    CHECK(fields["answers"]["a_text"] == "all done");
    CHECK(fields["attachments"]["well.jpg"]["size"] == 1234);
  }

  // Finalized: no longer editable.
  model.apply(app::ReopenSubmission{id, "en"});
  CHECK_FALSE(model.state().fill);
  REQUIRE(model.state().forms_problem);
  CHECK(model.state().forms_problem->problem.key == "problem.form_unavailable");
}

// --- The sync schedule

TEST_CASE("sync schedule: at start, soon after a change, on a growing backoff offline, not when only the user can help") {
  using Clock = app::SyncSchedule::Clock;
  const Clock::time_point t0{};
  app::SyncSchedule schedule;
  schedule.start(t0, false);
  CHECK_FALSE(schedule.due());
  schedule.local_change(t0);
  CHECK_FALSE(schedule.due());  // not enrolled: nothing to sync with

  schedule.start(t0, true);
  REQUIRE(schedule.due());
  CHECK(*schedule.due() == t0);

  // Offline: 30 s, then doubling up to 10 minutes.
  Clock::time_point now = t0;
  std::vector<long> waits;
  for (int attempt = 0; attempt < 7; ++attempt) {
    schedule.finished(now, SyncOutcome::RetryLater);
    waits.push_back(static_cast<long>(std::chrono::duration_cast<std::chrono::seconds>(*schedule.due() - now).count()));
    now = *schedule.due();
  }
  CHECK(waits == std::vector<long>{30, 60, 120, 240, 480, 600, 600});

  // A change made offline is tried soon, whatever the backoff says.
  schedule.finished(now, SyncOutcome::RetryLater);
  schedule.local_change(now);
  CHECK(*schedule.due() == now + std::chrono::seconds(2));

  // Back online: the backoff starts over; the next sync is the periodic one.
  schedule.finished(now, SyncOutcome::Synced);
  CHECK(*schedule.due() == now + std::chrono::seconds(600));
  schedule.finished(now, SyncOutcome::RetryLater);
  CHECK(*schedule.due() == now + std::chrono::seconds(30));

  // A refused device waits for the user, even after changes.
  schedule.finished(now, SyncOutcome::NeedsUser);
  CHECK_FALSE(schedule.due());
  schedule.local_change(now);
  CHECK_FALSE(schedule.due());
}

// --- The worker thread

namespace {

// Collects the worker's wake-ups; waits for a snapshot that satisfies a condition.
class Snapshots {
 public:
  void wake() {
    std::lock_guard<std::mutex> lock(mutex_);
    ++wakes_;
    changed_.notify_all();
  }
  template <typename Condition>
  std::shared_ptr<const app::AppState> wait_for(app::Worker& worker, Condition condition) {
    std::unique_lock<std::mutex> lock(mutex_);
    std::shared_ptr<const app::AppState> state;
    // The limit only keeps a broken worker from hanging the suite; nothing here is timed.
    const bool met = changed_.wait_for(lock, 60s, [&] {
      state = worker.snapshot();
      return condition(*state);
    });
    REQUIRE_MESSAGE(met, "the worker never published the expected snapshot");
    return state;
  }
  int wakes() {
    std::lock_guard<std::mutex> lock(mutex_);
    return wakes_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int wakes_ = 0;
};

}  // namespace

TEST_CASE("worker: syncs an enrolled home at start, applies posted commands and wakes the window each time") {
  TempHome home;
  Registry registry;
  test::TestDevice colleague = registry.device("colleague");
  colleague.replica->put("submissions", "s-1", {{"household", "Amina"}});
  colleague.sync();
  enroll_home(home.path(), registry);

  Snapshots snapshots;
  app::Worker::Options options;
  options.home_directory = home.path();
  options.transports = registry.transports();
  options.wake = [&] { snapshots.wake(); };
  app::Worker worker(std::move(options));

  auto synced = snapshots.wait_for(worker, [](const app::AppState& state) { return state.sync.finished >= 1; });
  CHECK_FALSE(synced->sync.problem);
  CHECK(synced->sync.report.pulled_records == 1);
  CHECK(synced->sync.next_attempt_ms.has_value());  // the periodic one

  worker.post({app::OpenCollection{"submissions"}, app::SetTextScale{1.25}});
  auto browsed = snapshots.wait_for(worker, [](const app::AppState& state) {
    return state.records && state.preferences.text_scale == 1.25;
  });
  REQUIRE(browsed->records->rows.size() == 1);
  CHECK(browsed->records->rows[0].id == "s-1");
  CHECK(browsed->version > synced->version);
  CHECK(snapshots.wakes() >= 3);
}

TEST_CASE("worker: an unusable home is reported, not thrown") {
  TempHome home;
  const std::string file = home.path() + "/not-a-directory";
  { std::ofstream(file) << "x"; }
  Snapshots snapshots;
  app::Worker::Options options;
  options.home_directory = file;
  options.wake = [&] { snapshots.wake(); };
  app::Worker worker(std::move(options));
  auto state = snapshots.wait_for(worker, [](const app::AppState& s) { return s.home_problem.has_value(); });
  CHECK(state->home_problem->key == "problem.home_unusable");
  CHECK_FALSE(state->home_problem->detail.empty());
}

TEST_CASE("worker: stopping while the registry cannot be reached ends the retries at once") {
  TempHome home;
  {
    client::Home core(home.path());
    core.replica().set_settings({{"token", "t0ken"}, {"registry_url", kNobodyUrl}});
  }
  Snapshots snapshots;
  app::Worker::Options options;
  options.home_directory = home.path();
  options.sync_attempts = 50;  // with its backoff, minutes of retrying unless stopping cuts it short
  options.wake = [&] { snapshots.wake(); };
  auto worker = std::make_unique<app::Worker>(std::move(options));
  snapshots.wait_for(*worker, [](const app::AppState& state) { return state.sync.running; });
  worker.reset();  // returns: the retry wait is interrupted
}

// --- Interface text

TEST_CASE("i18n: every catalog has every English text, with the same placeholders") {
  const std::string directory = app::i18n_directory();
  const auto languages = app::available_languages(directory);
  CHECK(languages == std::vector<std::string>{"en", "es", "fr"});
  const app::Catalog english = app::Catalog::load(directory + "/en.json");
  auto placeholders = [](const std::string& text) {
    std::vector<std::string> names;
    for (size_t open = text.find('{'); open != std::string::npos; open = text.find('{', open + 1))
      names.push_back(text.substr(open, text.find('}', open) - open + 1));
    std::sort(names.begin(), names.end());
    return names;
  };
  for (const std::string& language : languages) {
    const app::Catalog catalog = app::Catalog::load(directory + "/" + language + ".json");
    CHECK_MESSAGE(catalog.texts().size() == english.texts().size(), language);
    for (const auto& [key, text] : english.texts()) {
      const std::string* translated = catalog.find(key);
      CHECK_MESSAGE(translated, language << " has no text for " << key);
      if (translated) CHECK_MESSAGE(placeholders(*translated) == placeholders(text), language << ": " << key);
    }
  }
}

TEST_CASE("i18n: a translator falls back to English, then to the key; plurals follow the language") {
  app::Translator translator;
  translator.load(app::i18n_directory(), "fr");
  CHECK(translator.language() == "fr");
  CHECK(std::string(translator.text("screen.settings")) == "Réglages");
  CHECK(std::string(translator.text("no.such.key")) == "no.such.key");
  CHECK(translator.count("time.minutes_ago", 0) == "il y a 0 minute");  // French: 0 is singular
  CHECK(translator.format("status.last_sync", {{"when", "hier"}}) == "dernière synchro hier");

  translator.load(app::i18n_directory(), "xx");  // no catalog: English
  CHECK(translator.language() == "en");
  CHECK(translator.count("time.minutes_ago", 0) == "0 minutes ago");
  CHECK(translator.count("time.minutes_ago", 1) == "1 minute ago");

  CHECK_THROWS_WITH(app::Catalog::load("/nonexistent/en.json"), doctest::Contains("/nonexistent/en.json"));
}

TEST_CASE("i18n: the language comes from the preference, else the system locale, else English") {
  const std::vector<std::string> available = {"en", "es", "fr"};
  const char* saved_all = std::getenv("LC_ALL");
  const std::string restore = saved_all ? saved_all : "";
  ::setenv("LC_ALL", "es_ES.UTF-8", 1);
  CHECK(app::system_language() == "es");
  CHECK(app::choose_language("", available) == "es");
  CHECK(app::choose_language("fr", available) == "fr");
  CHECK(app::choose_language("de", available) == "es");
  ::setenv("LC_ALL", "C", 1);
  CHECK(app::system_language() == "en");
  ::setenv("LC_ALL", "pt_BR", 1);
  CHECK(app::choose_language("", available) == "en");
  if (saved_all)
    ::setenv("LC_ALL", restore.c_str(), 1);
  else
    ::unsetenv("LC_ALL");
}

TEST_CASE("text: sizes, cut text and right-to-left scripts") {
  load_english();
  CHECK(app::format_bytes(812) == "812 B");
  CHECK(app::format_bytes(12'400) == "12.4 kB");
  CHECK(app::format_bytes(3'100'000) == "3.1 MB");
  CHECK(app::format_ago(1'000'000, 1'000'000 + 30'000) == "just now");
  CHECK(app::format_ago(0, 5 * 60'000) == "5 minutes ago");
  CHECK(app::format_ago(0, 3 * 24 * 3'600'000) == "3 days ago");
  CHECK(app::shorten("abc", 10) == "abc");
  CHECK(app::shorten("h\u00e9llo", 2) == "h\u2026");  // not halfway through the é
  CHECK(app::has_right_to_left("\u0645\u0631\u062d\u0628\u0627"));  // Arabic
  CHECK(app::has_right_to_left("shalom \u05e9\u05dc\u05d5\u05dd"));    // Hebrew
  CHECK_FALSE(app::has_right_to_left("\u041f\u0440\u0438\u0432\u0435\u0442 Vi\u1ec7t Nam \u0391\u03b8\u03ae\u03bd\u03b1"));
  CHECK(app::display_value(Json("text")) == "text");
  CHECK(app::display_value(Json(nullptr)).empty());
  CHECK(app::display_value(Json::array({1, 2})) == "[1,2]");
}

TEST_CASE("problems: sync failures in plain words, and whether retrying can help") {
  auto classify = [](const std::exception& error) { return app::classify_sync_failure(error, "http://r"); };
  const app::SyncFailure offline = classify(sync::SyncError("cannot reach", true, 0));
  CHECK(offline.problem.key == "problem.offline");
  CHECK(offline.offline);
  CHECK_FALSE(offline.answered);
  CHECK(offline.retry_later);
  const app::SyncFailure busy = classify(sync::SyncError("HTTP 503", true, 503));
  CHECK(busy.problem.key == "problem.registry_trouble");
  CHECK_FALSE(busy.offline);
  CHECK(busy.answered);
  const app::SyncFailure revoked = classify(sync::SyncError("token", false, 401));
  CHECK(revoked.problem.key == "problem.device_refused");
  CHECK_FALSE(revoked.retry_later);
  CHECK(classify(client::ClientError("not enrolled")).problem.key == "problem.not_enrolled");
  const app::SyncFailure local = classify(std::runtime_error("disk full"));
  CHECK(local.problem.key == "problem.local_failure");
  CHECK_FALSE(local.offline);
  CHECK_FALSE(local.answered);
  CHECK(offline.problem.params == app::TextParams{{"url", "http://r"}});

  CHECK_FALSE(app::check_registry_url("https://registry.example.org:8440/base"));
  CHECK_FALSE(app::check_registry_url("http://127.0.0.1:8440"));
  CHECK(app::check_registry_url("ftp://registry.example.org"));
  CHECK(app::check_registry_url(""));
}
