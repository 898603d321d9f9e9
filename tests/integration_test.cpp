// Integration tests: the real `outpost-registry` server and the real `outpost` CLI as child
// processes speaking HTTP on 127.0.0.1, sometimes through a FaultProxy that cuts or throttles
// the connection. The libraries are linked only to prepare data in bulk, to read databases and
// to send the raw requests the CLI never would.
//
// Randomised tests print their seed; OUTPOST_TEST_SEED=N replays one.

#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>
#include <tuple>
#include <vector>

#include "client/home.h"
#include "client/submissions.h"
#include "form_records/form_records.h"
#include "forms/sheet.h"
#include "platform/clock.h"
#include "platform/compress.h"
#include "platform/crypto.h"
#include "platform/files.h"
#include "platform/sqlite.h"
#include "support/fault_proxy.h"
#include "support/transfer_data.h"
#include "support/process.h"
#include "support/temp_dir.h"
#include "sync/blob_transfer.h"
#include "sync/curl_transport.h"
#include "sync/protocol.h"
#include "sync/replica.h"
#include "sync/stored_fields.h"

// Sets of ids print as such in failed checks.
namespace doctest {
template <>
struct StringMaker<std::set<std::string>> {
  static String convert(const std::set<std::string>& values) {
    std::string text = "{";
    for (const std::string& value : values) text += (text.size() > 1 ? ", " : "") + value;
    return (text + "}").c_str();
  }
};
}  // namespace doctest

namespace {

using namespace std::chrono_literals;
using outpost::sync::Json;
using outpost::test::BackgroundProcess;
using outpost::test::FaultProxy;
using outpost::test::ProcessResult;
using outpost::test::TempDir;
using std::chrono::milliseconds;
namespace db = outpost::db;
namespace sync = outpost::sync;

constexpr char kCollection[] = "submissions";
constexpr milliseconds kCommandTimeout = 30s;

// --- Seeds, text and small helpers ---------------------------------------------------------

// The test's own seed unless OUTPOST_TEST_SEED says otherwise; reported either way.
std::mt19937 seeded_rng(uint32_t fallback) {
  const char* text = std::getenv("OUTPOST_TEST_SEED");
  const uint32_t seed = text && *text ? static_cast<uint32_t>(std::stoul(text)) : fallback;
  MESSAGE("seed " << seed << " (OUTPOST_TEST_SEED=" << seed << " replays it)");
  return std::mt19937(seed);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

std::string first_line(const std::string& text) {
  const auto lines = lines_of(text);
  return lines.empty() ? std::string() : lines.front();
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A CLI failure explained in exactly one line on stderr.
void check_one_line_reason(const ProcessResult& result, const std::string& reason) {
  INFO(result.describe());
  CHECK_FALSE(result.succeeded());
  CHECK_FALSE(result.timed_out);
  CHECK(result.signal == 0);
  CHECK(std::count(result.err.begin(), result.err.end(), '\n') == 1);
  CHECK(contains(result.err, reason));
}

// Text that compresses about as badly as real notes, so bodies stay big on the wire.
std::string noise(std::mt19937& rng, size_t length) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string text(length, ' ');
  for (char& c : text) c = kDigits[rng() % 16];
  return text;
}

std::string integrity_of(const std::string& database_path) {
  db::Database database(database_path, db::OpenMode::ReadOnly);
  return database.integrity_check();
}

// --- Child processes ------------------------------------------------------------------------

ProcessResult run_command(const std::vector<std::string>& argv, milliseconds timeout = kCommandTimeout) {
  return outpost::test::run_process(argv, {{}, timeout});
}

// Runs a command that must succeed; returns its stdout.
std::string run_ok(const std::vector<std::string>& argv) {
  const ProcessResult result = run_command(argv);
  REQUIRE_MESSAGE(result.succeeded(), result.describe());
  return result.out;
}

// --- The registry: a served database and its admin CLI --------------------------------------

class RegistryServer {
 public:
  RegistryServer(const std::string& db_path, const std::string& log_path)
      : log_path_(log_path),
        process_({OUTPOST_REGISTRY_BIN, "serve", "--db", db_path, "--listen", "127.0.0.1:0"}, {{}, log_path}) {
    const auto line = process_.read_line(15s);
    REQUIRE_MESSAGE(line.has_value(), "outpost-registry never said where it listens; its log:\n" << log());
    const std::string prefix = "listening on 127.0.0.1:";
    REQUIRE_MESSAGE(line->rfind(prefix, 0) == 0, "unexpected first line from outpost-registry: " << *line);
    port_ = static_cast<uint16_t>(std::stoi(line->substr(prefix.size())));
  }
  ~RegistryServer() { stop(); }
  RegistryServer(const RegistryServer&) = delete;
  RegistryServer& operator=(const RegistryServer&) = delete;

  uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // SIGTERM, as a service manager would; the server must finish cleanly.
  void stop() {
    if (stopped_) return;
    stopped_ = true;
    process_.send_signal(SIGTERM);
    const ProcessResult result = process_.wait(15s);
    if (!result.succeeded())
      FAIL_CHECK("outpost-registry did not stop cleanly on SIGTERM: " << result.describe() << "\nits log:\n" << log());
  }

 private:
  // The end of the server's stderr, for failure messages.
  std::string log() const {
    if (!outpost::files::exists(log_path_)) return "(empty)";
    const std::string text = outpost::files::read_file(log_path_);
    return text.size() > 4000 ? "[...]" + text.substr(text.size() - 4000) : text;
  }

  std::string log_path_;
  BackgroundProcess process_;
  uint16_t port_ = 0;
  bool stopped_ = false;
};

// `outpost-registry --db FILE ...`, meant to be safe while the server runs (SQLite in WAL mode);
// see Testbed::enroll for why the tests still write before the server gets busy.
class RegistryAdmin {
 public:
  explicit RegistryAdmin(std::string db_path) : db_path_(std::move(db_path)) {}

  const std::string& db_path() const { return db_path_; }
  std::string command(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {OUTPOST_REGISTRY_BIN, "--db", db_path_};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_ok(argv);
  }
  std::string add_org(const std::string& name) const { return first_line(command({"org", "add", name})); }
  std::string invite(const std::string& org_id, const std::string& role = "field") const {
    return first_line(command({"invite", org_id, "--role", role}));
  }
  std::string admin_token() const { return first_line(command({"admin-token"})); }

 private:
  std::string db_path_;
};

// --- Devices: homes driven through the outpost CLI ------------------------------------------

using Records = std::map<std::string, Json>;  // record id -> its fields

struct Credentials {
  std::string token;
  std::string device_id;
  std::string replica_id;
  int64_t next_request_seq = 1;
};

class Device {
 public:
  Device(std::string name, std::string home) : name_(std::move(name)), home_(std::move(home)) {}

  const std::string& name() const { return name_; }
  const std::string& home() const { return home_; }
  std::string replica_path() const { return home_ + "/replica.db"; }

  ProcessResult run(const std::vector<std::string>& args, milliseconds timeout = kCommandTimeout) const {
    std::vector<std::string> argv = {OUTPOST_BIN, "--home", home_};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, timeout);
  }
  std::string run_ok(const std::vector<std::string>& args) const {
    const ProcessResult result = run(args);
    REQUIRE_MESSAGE(result.succeeded(), name_ << ": " << result.describe());
    return result.out;
  }

  void enroll(const std::string& url, const std::string& code) const { run_ok({"enroll", url, code, "--name", name_}); }
  void sync() const { run_ok({"sync"}); }
  // One attempt, no retries: for syncs expected to fail.
  ProcessResult try_sync() const { return run({"sync", "--attempts", "1"}); }
  void put(const std::string& id, const std::vector<std::pair<std::string, Json>>& fields) const {
    std::vector<std::string> args = {"record", "put", kCollection, id};
    for (const auto& field : fields) args.push_back(field.first + "=" + field.second.dump());
    run_ok(args);
  }

  // `record list`, keyed by id; every id must appear once.
  Records records() const {
    Records records;
    for (const std::string& line : lines_of(run_ok({"record", "list", kCollection}))) {
      const Json record = Json::parse(line);
      CHECK_MESSAGE(records.emplace(record.at("id").get<std::string>(), record.at("fields")).second,
                    name_ << " lists record " << record.at("id") << " twice");
    }
    return records;
  }
  std::vector<Json> conflicts(bool include_resolved = false) const {
    std::vector<Json> conflicts;
    const std::vector<std::string> args =
        include_resolved ? std::vector<std::string>{"conflicts", "--all"} : std::vector<std::string>{"conflicts"};
    for (const std::string& line : lines_of(run_ok(args))) conflicts.push_back(Json::parse(line));
    return conflicts;
  }
  Json status() const { return Json::parse(run_ok({"status"})); }

  // Read straight from the replica; only while no outpost process uses this home.
  Credentials credentials() const {
    sync::Replica replica(replica_path());
    return {replica.setting("token").value_or(""), replica.setting("device_id").value_or(""), replica.replica_id(),
            std::stoll(replica.setting("next_request_seq").value_or("1"))};
  }

 private:
  std::string name_;
  std::string home_;
};

// --- The test bed: a temporary directory, a registry database and its running server ---------

struct Enrollee {
  Enrollee(std::string name_, std::string org_id_, std::string role_ = "field", std::string url_ = "")
      : name(std::move(name_)), org_id(std::move(org_id_)), role(std::move(role_)), url(std::move(url_)) {}
  std::string name;
  std::string org_id;
  std::string role;
  std::string url;  // where it enrolls, and so where it will sync; the registry itself when empty
};

class Testbed {
 public:
  Testbed() : admin_(dir_.file("registry.db")) {
    registry_ = std::make_unique<RegistryServer>(admin_.db_path(), dir_.file("registry.log"));
  }

  const TempDir& dir() const { return dir_; }
  const RegistryAdmin& admin() const { return admin_; }
  std::string registry_url() const { return registry_->url(); }
  uint16_t registry_port() const { return registry_->port(); }
  void stop_registry() { registry_->stop(); }

  Device device(const std::string& name) const { return Device(name, dir_.file("home-" + name)); }

  // Creates every code, then enrolls each device with its code. (CLI writes while the server
  // runs are tested on their own: "the registry CLI can write while the server runs".)
  std::vector<Device> enroll(const std::vector<Enrollee>& enrollees) const {
    std::vector<std::string> codes;
    for (const Enrollee& enrollee : enrollees) codes.push_back(admin_.invite(enrollee.org_id, enrollee.role));
    std::vector<Device> devices;
    for (size_t i = 0; i < enrollees.size(); ++i) {
      devices.push_back(device(enrollees[i].name));
      devices.back().enroll(enrollees[i].url.empty() ? registry_url() : enrollees[i].url, codes[i]);
    }
    return devices;
  }

 private:
  TempDir dir_;  // first: removed only after the server below has stopped
  RegistryAdmin admin_;
  std::unique_ptr<RegistryServer> registry_;
};

std::string proxy_url(const FaultProxy& proxy) { return "http://127.0.0.1:" + std::to_string(proxy.port()); }

// --- Raw HTTP to the registry -----------------------------------------------------------------

class Http {
 public:
  explicit Http(std::string base_url, sync::CurlTransport::Options options = {})
      : base_url_(std::move(base_url)), options_(options) {}

  sync::HttpResponse send(const std::string& method, const std::string& path, const std::string& token,
                          const std::string& body = "",
                          const std::vector<std::pair<std::string, std::string>>& headers = {}) const {
    sync::HttpRequest request;
    request.method = method;
    request.path = path;
    request.body = body;
    request.headers = headers;
    if (!token.empty()) request.headers.emplace_back("Authorization", "Bearer " + token);
    sync::CurlTransport transport(base_url_, options_);
    return transport.send(request);
  }
  sync::HttpResponse get(const std::string& path, const std::string& token) const { return send("GET", path, token); }
  sync::HttpResponse post_json(const std::string& path, const std::string& token, const Json& body) const {
    return send("POST", path, token, body.dump(), {{"Content-Type", "application/json"}});
  }
  // As the client sends it: zstd-compressed JSON.
  sync::HttpResponse post_sync(const std::string& token, const sync::SyncRequest& request) const {
    return send("POST", "/v1/sync", token, sync::compress_body(sync::encode_request(request)),
                {{"Content-Type", "application/json"}, {"Content-Encoding", sync::kZstd}});
  }

 private:
  std::string base_url_;
  sync::CurlTransport::Options options_;
};

Json body_of(const sync::HttpResponse& response) {
  return sync::decode_body(response.body, response.header("Content-Encoding") == sync::kZstd);
}

// A success answer with the given status; returns its JSON body.
Json expect_answer(const sync::HttpResponse& response, int status) {
  INFO("HTTP " << response.status << ": " << response.body.substr(0, 400));
  REQUIRE(response.status == status);
  return body_of(response);
}

// A refusal: the status, and a JSON body {"error": code, "message": a sentence}.
Json expect_refusal(const sync::HttpResponse& response, int status, const std::string& code) {
  INFO("HTTP " << response.status << ": " << response.body.substr(0, 400));
  CHECK(response.status == status);
  CHECK(response.header("Content-Type").rfind("application/json", 0) == 0);
  const Json body = Json::parse(response.body, nullptr, false);
  REQUIRE(body.is_object());
  CHECK(body.value("error", "") == code);
  REQUIRE(body.contains("message"));
  REQUIRE(body["message"].is_string());
  CHECK_FALSE(body["message"].get<std::string>().empty());
  return body;
}

std::string record_path(const std::string& id, const std::string& collection = kCollection) {
  return "/v1/records/" + collection + "/" + id;
}

// A request writing one field of one record, stamped as if `replica` wrote it just now.
sync::SyncRequest write_request(int64_t seq, const std::string& replica, const std::string& id,
                                const std::string& field = "status", const Json& value = "written",
                                const std::string& collection = kCollection) {
  const int64_t now = outpost::SystemClock::instance().now_ms();
  sync::FieldChange change;
  change.value = value.dump();
  change.stamp = sync::Stamp{sync::hlc_from_millis(now), replica};
  change.wall_ms = now;
  sync::RecordChange record;
  record.collection = collection;
  record.id = id;
  record.fields.emplace(field, change);
  sync::SyncRequest request;
  request.seq = seq;
  request.changes.push_back(record);
  return request;
}

// The JSON text of a request writing `id`.notes with a value of `size` bytes, built without
// the several copies a JSON value that size would cost.
std::string padded_request_text(int64_t seq, const std::string& replica, const std::string& id, size_t size) {
  const std::string text = sync::encode_request(write_request(seq, replica, id, "notes", "PAD"));
  const size_t pad = text.find("\"PAD\"");
  return text.substr(0, pad + 1) + std::string(size, 'x') + text.substr(pad + 4);
}

// --- Bulk data and the end-of-test checks shared by the fault tests --------------------------

// A record's fields; `notes_length` sets how much it weighs on the wire.
Json sample_fields(std::mt19937& rng, const std::string& tag, size_t notes_length = 240) {
  return {{"title", tag + " " + noise(rng, 24)},
          {"count", static_cast<int>(rng() % 100000)},
          {"notes", noise(rng, notes_length)}};
}

Records sample_records(std::mt19937& rng, size_t count, const std::string& prefix, const std::string& tag,
                       size_t notes_length = 240) {
  Records records;
  char id[64];
  for (size_t i = 0; i < count; ++i) {
    std::snprintf(id, sizeof id, "%s-%05zu", prefix.c_str(), i);
    records.emplace(id, sample_fields(rng, tag, notes_length));
  }
  return records;
}

// `count` distinct ids of `from`, chosen at random.
std::vector<std::string> pick_ids(std::mt19937& rng, const Records& from, size_t count) {
  std::vector<std::string> ids;
  for (const auto& entry : from) ids.push_back(entry.first);
  std::shuffle(ids.begin(), ids.end(), rng);
  ids.resize(std::min(count, ids.size()));
  return ids;
}

// Writes through the device's own replica, in this process: one `outpost record put` per
// record would take minutes. Folds the writes into `expected`.
void write_records(const Device& device, const Records& changes, Records& expected) {
  outpost::client::Home home(device.home());
  for (const auto& [id, fields] : changes) {
    home.replica().put(kCollection, id, fields);
    Json& record = expected[id];
    if (!record.is_object()) record = Json::object();
    for (const auto& [name, value] : fields.items()) record[name] = value;
  }
}

void delete_records(const Device& device, const std::vector<std::string>& ids, Records& expected) {
  outpost::client::Home home(device.home());
  for (const std::string& id : ids) {
    home.replica().remove(kCollection, id);
    expected.erase(id);
  }
}

// Roughly what a sync carrying `records` weighs on the wire: their compressed JSON, plus what
// stamps and HTTP heads add (measured: about a quarter more, and a kilobyte).
size_t wire_size(const Records& records) {
  const size_t data = sync::encode_body(Json(records)).size();
  return data + data / 4 + 1024;
}

// The answers to a push that pulls nothing: about 300 bytes for each batch of records sent.
size_t push_answers_size(const Records& pushed) {
  return 300 * ((pushed.size() + sync::kMaxRecordsPerBatch - 1) / sync::kMaxRecordsPerBatch);
}

// Names the first few differences instead of printing thousands of records.
void check_same_records(const std::string& who, const Records& actual, const Records& expected) {
  INFO(who << " holds " << actual.size() << " records, expected " << expected.size());
  CHECK(actual.size() == expected.size());
  int reported = 0;
  for (const auto& [id, fields] : expected) {
    if (reported >= 5) break;
    auto it = actual.find(id);
    if (it == actual.end()) {
      FAIL_CHECK(who << " is missing record " << id);
      ++reported;
    } else if (it->second != fields) {
      FAIL_CHECK(who << " has " << id << " = " << it->second.dump() << ", expected " << fields.dump());
      ++reported;
    }
  }
  for (const auto& [id, fields] : actual) {
    if (reported >= 5) break;
    if (!expected.count(id)) {
      FAIL_CHECK(who << " has an unexpected record " << id << " = " << fields.dump());
      ++reported;
    }
  }
}

// What must hold once syncing is over: each device holds exactly `expected`, no conflict was
// made up (a replayed request applied twice would show as one), no outbox holds anything, and
// every database is sound.
void check_delivered(const Testbed& bed, const Records& expected, const std::vector<const Device*>& devices) {
  for (const Device* device : devices) {
    check_same_records(device->name(), device->records(), expected);
    const std::vector<Json> conflicts = device->conflicts(true);
    CHECK_MESSAGE(conflicts.empty(), device->name() << " has " << conflicts.size() << " conflicts, the first: "
                                                    << (conflicts.empty() ? "" : conflicts.front().dump()));
    CHECK_MESSAGE(device->status()["pending_changes"] == 0, device->name() << ": " << device->status().dump());
    CHECK_MESSAGE(integrity_of(device->replica_path()) == "ok", device->name());
  }
  CHECK(integrity_of(bed.admin().db_path()) == "ok");
}

// --- Cutting connections at random bytes --------------------------------------------------------

// How many bytes each direction of one sync carries, to draw cut offsets from.
struct WireSizes {
  size_t request = 0;
  size_t response = 0;
};

struct CutStats {
  int attempts = 0;
  int failed_syncs = 0;
  int header_cuts = 0;  // cuts within the first bytes of a direction, where the headers are
  int body_cuts = 0;
};

// The HTTP head of a request or an answer fits in this many bytes.
constexpr size_t kHeaderBytes = 256;

// `attempts` times: `work()` makes fresh changes and says how big the next sync will be, then
// `device` syncs with its connection cut at a random byte of the request or of the response (a
// third of the cuts within the headers). Fresh work before each attempt matters: an attempt
// the cut missed sends everything, and would leave the next ones nothing to cut into. Ends with
// a sync over a clean connection, which must go through.
void sync_through_cuts(const Device& device, FaultProxy& proxy, std::mt19937& rng, int attempts,
                       const std::function<WireSizes()>& work, CutStats& stats) {
  for (int i = 0; i < attempts; ++i) {
    const WireSizes sizes = work();
    const bool in_request = rng() % 2 == 0;
    const bool in_headers = rng() % 3 == 0;
    const size_t span = std::max<size_t>(1, in_request ? sizes.request : sizes.response);
    const size_t offset = in_headers ? rng() % kHeaderBytes : kHeaderBytes + rng() % span;
    FaultProxy::Plan plan;
    (in_request ? plan.cut_request_after : plan.cut_response_after) = offset;
    proxy.set_plan(plan);

    const uint64_t cuts_before = proxy.cuts();
    const ProcessResult result = device.try_sync();
    INFO("cut " << (in_request ? "request" : "response") << " after " << offset << " bytes");
    ++stats.attempts;
    if (!result.succeeded()) {
      ++stats.failed_syncs;
      // A cut is an ordinary failure with a message, never a crash or a hang.
      CHECK_MESSAGE(result.exit_code == 1, result.describe());
    }
    if (proxy.cuts() > cuts_before) ++(in_headers ? stats.header_cuts : stats.body_cuts);
  }
  proxy.set_plan({});
  device.sync();
}

void report_cuts(const CutStats& stats) {
  MESSAGE(stats.attempts << " cut syncs, " << stats.failed_syncs << " failed; " << stats.header_cuts
                         << " cuts in headers, " << stats.body_cuts << " in bodies");
  CHECK(stats.failed_syncs > 0);
  CHECK(stats.header_cuts > 0);
  CHECK(stats.body_cuts > 0);
}

// --- A model of field-level last-writer-wins with conflict capture -----------------------------
// It follows what each device knows and what the registry holds, field by field, with the real
// stamps read back from each device's replica after each write, and so predicts every final
// value and every conflict between two values of a user field.

struct Version {
  std::string value;  // JSON text, as stored
  sync::Stamp stamp;
};

struct ExpectedConflict {
  std::string record, field, kept, lost;  // values as JSON text
  friend bool operator<(const ExpectedConflict& a, const ExpectedConflict& b) {
    return std::tie(a.record, a.field, a.kept, a.lost) < std::tie(b.record, b.field, b.kept, b.lost);
  }
  friend bool operator==(const ExpectedConflict& a, const ExpectedConflict& b) {
    return std::tie(a.record, a.field, a.kept, a.lost) == std::tie(b.record, b.field, b.kept, b.lost);
  }
};

std::string describe(const std::set<ExpectedConflict>& conflicts) {
  std::string text;
  for (const ExpectedConflict& c : conflicts)
    text += "\n  " + c.record + "." + c.field + ": kept " + c.kept + ", lost " + c.lost;
  return text.empty() ? " (none)" : text;
}

// The rows a device's replica holds for one record: field -> version.
std::map<std::string, Version> stored_fields(const Device& device, const std::string& record) {
  db::Database database(device.replica_path(), db::OpenMode::ReadOnly);
  auto& rows = database.prepare("SELECT fields FROM records WHERE collection=? AND id=?");
  rows.bind(1, kCollection).bind(2, record);
  std::map<std::string, Version> fields;
  if (rows.step())
    for (auto& [name, field] : sync::decode_fields(rows.text(0))) fields[name] = Version{field.value, field.stamp};
  return fields;
}

class LwwModel {
 public:
  using FieldKey = std::pair<std::string, std::string>;  // record id, field

  explicit LwwModel(size_t devices) : devices_(devices) {}

  // After a local write: rows stamped by the device itself that the model has not seen are
  // that write. A field already waiting to be sent keeps the base it was first written over,
  // as the outbox does.
  void wrote(size_t device, const std::string& replica, const std::string& record,
             const std::map<std::string, Version>& rows) {
    DeviceState& state = devices_[device];
    for (const auto& [field, version] : rows) {
      const FieldKey key{record, field};
      auto known = state.local.find(key);
      if (version.stamp.replica != replica || (known != state.local.end() && known->second.stamp == version.stamp))
        continue;
      auto pending = state.pending.find(key);
      if (pending != state.pending.end())
        pending->second.version = version;
      else
        state.pending[key] = {version, known == state.local.end() ? std::nullopt : std::optional(known->second.stamp)};
      state.local[key] = version;
    }
  }

  // A successful sync: the device's writes meet the registry's values, then it pulls them all.
  void synced(size_t device) {
    DeviceState& state = devices_[device];
    for (const auto& [key, outgoing] : state.pending) {
      auto held = registry_.find(key);
      if (held == registry_.end()) {
        registry_[key] = outgoing.version;
        continue;
      }
      const Version existing = held->second;
      if (existing.stamp == outgoing.version.stamp) continue;
      // The registry's rule: the writer had not seen the value it replaces, somebody else
      // wrote that value, and the two differ.
      const bool concurrent = (!outgoing.base || *outgoing.base != existing.stamp) &&
                              existing.stamp.replica != outgoing.version.stamp.replica &&
                              existing.value != outgoing.version.value;
      const bool incoming_wins = outgoing.version.stamp > existing.stamp;
      if (concurrent && key.second != sync::kDeletedField) {
        const Version& kept = incoming_wins ? outgoing.version : existing;
        const Version& lost = incoming_wins ? existing : outgoing.version;
        conflicts_.insert({key.first, key.second, kept.value, lost.value});
      }
      if (incoming_wins) held->second = outgoing.version;
    }
    state.pending.clear();
    state.local = registry_;
  }

  bool live_on(size_t device, const std::string& record) const {
    return is_live(devices_[device].local, record);
  }

  // The live records the registry holds: id -> user fields.
  Records registry_records() const {
    Records records;
    for (const auto& [key, version] : registry_)
      if (key.second != sync::kDeletedField && is_live(registry_, key.first))
        records[key.first][key.second] = Json::parse(version.value);
    return records;
  }
  const std::map<FieldKey, Version>& registry() const { return registry_; }
  const std::set<ExpectedConflict>& conflicts() const { return conflicts_; }

 private:
  struct Pending {
    Version version;
    std::optional<sync::Stamp> base;
  };
  struct DeviceState {
    std::map<FieldKey, Version> local;
    std::map<FieldKey, Pending> pending;
  };

  static bool is_live(const std::map<FieldKey, Version>& fields, const std::string& record) {
    auto first = fields.lower_bound({record, ""});
    if (first == fields.end() || first->first.first != record) return false;
    auto tombstone = fields.find({record, sync::kDeletedField});
    return tombstone == fields.end() || tombstone->second.value != "true";
  }

  std::map<FieldKey, Version> registry_;
  std::vector<DeviceState> devices_;
  std::set<ExpectedConflict> conflicts_;
};

// User-field conflicts as a device lists them, in the model's terms.
std::set<ExpectedConflict> field_conflicts(const std::vector<Json>& listed) {
  std::set<ExpectedConflict> conflicts;
  for (const Json& c : listed)
    if (c.at("field") != sync::kDeletedField)
      conflicts.insert({c.at("record").get<std::string>(), c.at("field").get<std::string>(),
                        c.at("kept").at("value").dump(), c.at("lost").at("value").dump()});
  return conflicts;
}

std::set<std::string> conflict_ids(const std::vector<Json>& listed) {
  std::set<std::string> ids;
  for (const Json& c : listed) ids.insert(c.at("id").get<std::string>());
  return ids;
}

// The convergence test's devices, driven through their CLI, with the model told of everything they do.
struct ModelledDevices {
  std::vector<Device> devices;
  std::vector<std::string> replicas;
  LwwModel model;

  explicit ModelledDevices(std::vector<Device> all)
      : devices(std::move(all)), model(devices.size()) {
    for (const Device& device : devices) replicas.push_back(device.credentials().replica_id);
  }
  void put(size_t d, const std::string& record, const std::vector<std::pair<std::string, Json>>& fields) {
    devices[d].put(record, fields);
    model.wrote(d, replicas[d], record, stored_fields(devices[d], record));
  }
  void remove(size_t d, const std::string& record) {
    devices[d].run_ok({"record", "delete", kCollection, record});
    model.wrote(d, replicas[d], record, stored_fields(devices[d], record));
  }
  void sync(size_t d) {
    devices[d].sync();
    model.synced(d);
  }
};

}  // namespace

// --- The process helpers themselves ----------------------------------------------------------------

TEST_CASE("integration: child processes are captured, timed out, signalled and reaped") {
  using outpost::test::run_process;

  SUBCASE("output, exit code and added environment") {
    const ProcessResult result =
        run_process({"sh", "-c", "echo \"out $OUTPOST_PROBE\"; echo err >&2; exit 3"}, {{{"OUTPOST_PROBE", "42"}}, 10s});
    CHECK(result.out == "out 42\n");
    CHECK(result.err == "err\n");
    CHECK(result.exit_code == 3);
    CHECK_FALSE(result.succeeded());
  }
  SUBCASE("a command that overruns its time is killed") {
    const ProcessResult result = run_process({"sleep", "30"}, {{}, 200ms});
    CHECK(result.timed_out);
    CHECK(result.signal == SIGKILL);
    CHECK(result.elapsed < 5s);
    CHECK(contains(result.describe(), "ran out of time"));
  }
  SUBCASE("the test's descriptors stay out of the child") {
    const int inheritable = ::open("/dev/null", O_RDONLY);  // deliberately without O_CLOEXEC
    const ProcessResult result = run_process({"ls", "/proc/self/fd"});
    ::close(inheritable);
    CHECK(lines_of(result.out) == std::vector<std::string>{"0", "1", "2", "3"});  // 3: ls reading the directory
  }
  SUBCASE("a background process: its first line, a signal, its end") {
    BackgroundProcess child({"sh", "-c", "echo ready; exec sleep 30"});
    CHECK(child.read_line(5s) == std::optional<std::string>("ready"));
    CHECK(child.running());
    child.send_signal(SIGTERM);
    const ProcessResult result = child.wait(5s);
    CHECK(result.signal == SIGTERM);
    CHECK_FALSE(child.running());
    CHECK_FALSE(child.read_line(100ms).has_value());
  }
  SUBCASE("a program that does not exist") {
    CHECK_THROWS_AS(run_process({"/nonexistent/program"}), std::system_error);
  }
  CHECK(::waitpid(-1, nullptr, WNOHANG) == -1);  // no child left unreaped
}

// --- a. Convergence -----------------------------------------------------------------------------

TEST_CASE("integration: three devices editing offline and syncing in random orders converge") {
  std::mt19937 rng = seeded_rng(424242);

  Testbed bed;
  const std::string org = bed.admin().add_org("field-team");
  ModelledDevices group(bed.enroll({{"ana", org}, {"bo", org}, {"chen", org}}));

  // The plainest concurrent edit: two devices set one field differently without syncing.
  group.put(0, "contested", {{"status", "from ana"}});
  group.put(1, "contested", {{"status", "from bo"}});
  group.sync(0);
  group.sync(1);
  {
    const std::set<ExpectedConflict> listed = field_conflicts(group.devices[1].conflicts());
    REQUIRE(listed.size() == 1);
    const ExpectedConflict& conflict = *listed.begin();
    CHECK(conflict.record == "contested");
    CHECK(conflict.field == "status");
    CHECK(std::set<std::string>{conflict.kept, conflict.lost} ==
          std::set<std::string>{Json("from ana").dump(), Json("from bo").dump()});
  }

  // Random rounds over a small pool, so devices keep stepping on each other's fields.
  const std::vector<std::string> ids = {"rec-1", "rec-2", "rec-3", "rec-4", "rec-5", "rec-6", "rec-7", "rec-8"};
  const std::vector<std::string> fields = {"status", "count", "note"};
  int written = 0;
  for (int round = 0; round < 6; ++round) {
    for (size_t d = 0; d < group.devices.size(); ++d) {
      for (unsigned op = rng() % 4; op > 0; --op) {
        const std::string& id = ids[rng() % ids.size()];
        if (rng() % 5 == 0 && group.model.live_on(d, id)) {
          group.remove(d, id);
          continue;
        }
        // Every value is unique, so a lost one can be told from the one kept.
        std::vector<std::pair<std::string, Json>> values;
        for (const std::string& field : fields)
          if (values.empty() || rng() % 3 == 0) {
            ++written;
            values.emplace_back(field, written % 2 ? Json(written)
                                                   : Json(group.devices[d].name() + " r" + std::to_string(round) +
                                                          " #" + std::to_string(written)));
          }
        std::rotate(values.begin(), values.begin() + static_cast<long>(rng() % values.size()), values.end());
        group.put(d, id, values);
      }
    }
    std::vector<size_t> order = {0, 1, 2};
    std::shuffle(order.begin(), order.end(), rng);
    order.resize(rng() % 4);
    for (size_t d : order) group.sync(d);
  }
  for (int pass = 0; pass < 2; ++pass)
    for (size_t d = 0; d < group.devices.size(); ++d) group.sync(d);

  // Every device holds what the model says the registry holds.
  const Records expected = group.model.registry_records();
  for (const Device& device : group.devices) check_same_records(device.name(), device.records(), expected);

  // The registry itself, field by field with stamps, read with a device token.
  const Http http(bed.registry_url());
  const std::string token = group.devices[0].credentials().token;
  std::map<std::string, Json> served;
  for (const auto& [key, version] : group.model.registry()) {
    if (!served.count(key.first))
      served[key.first] = expect_answer(http.get(record_path(key.first), token), 200).at("f");
    const Json& record_fields = served[key.first];
    INFO(key.first << "." << key.second);
    REQUIRE(record_fields.contains(key.second));
    CHECK(record_fields[key.second].at("v").dump() == version.value);
    CHECK(sync::stamp_from_json(record_fields[key.second].at("s"), "stamp") == std::optional(version.stamp));
  }
  for (const auto& [id, fields_served] : served) {
    size_t modelled = 0;
    for (const auto& entry : group.model.registry()) modelled += entry.first.first == id;
    CHECK_MESSAGE(fields_served.size() == modelled, id << ": " << fields_served.dump());
  }

  // The same conflicts everywhere, and exactly the field conflicts the model predicts: every
  // concurrent value that lost is kept in one.
  const std::vector<Json> first_conflicts = group.devices[0].conflicts(true);
  for (const Device& device : group.devices) {
    const std::vector<Json> listed = device.conflicts(true);
    CHECK_MESSAGE(conflict_ids(listed) == conflict_ids(first_conflicts), device.name());
    const std::set<ExpectedConflict> found = field_conflicts(listed);
    CHECK_MESSAGE(found == group.model.conflicts(), device.name() << " lists" << describe(found)
                                                                  << "\nthe model predicts" << describe(group.model.conflicts()));
    CHECK(integrity_of(device.replica_path()) == "ok");
  }
  MESSAGE(written << " values written, " << expected.size() << " live records, " << first_conflicts.size()
                  << " conflicts (" << group.model.conflicts().size() << " on user fields)");
}

// --- b. Connections cut at random bytes ---------------------------------------------------------

TEST_CASE("integration: connections cut at random bytes while pushing lose and duplicate nothing") {
  std::mt19937 rng = seeded_rng(1001);

  Testbed bed;
  const std::string org = bed.admin().add_org("survey");
  FaultProxy proxy("127.0.0.1", bed.registry_port());
  const std::vector<Device> devices = bed.enroll({{"writer", org, "field", proxy_url(proxy)}, {"reader", org}});
  const Device& writer = devices[0];
  const Device& reader = devices[1];

  // First 1200 new records, then before each attempt some of them rewritten and a few deleted.
  Records expected;
  Records unsent;  // written since the last clean sync: an upper bound of what the next one sends
  int round = 0;
  const auto edit = [&] {
    const std::string tag = "v" + std::to_string(round);
    Records changes;
    if (round++ == 0) {
      changes = sample_records(rng, 1200, "sub", tag);
    } else {
      for (const std::string& id : pick_ids(rng, expected, 150)) changes[id] = sample_fields(rng, tag);
    }
    write_records(writer, changes, expected);
    if (round > 1) delete_records(writer, pick_ids(rng, expected, 3), expected);
    for (const auto& change : changes) unsent[change.first] = change.second;
    return WireSizes{wire_size(unsent), push_answers_size(unsent)};
  };
  CutStats stats;
  for (int iteration = 0; iteration < 8; ++iteration) {
    sync_through_cuts(writer, proxy, rng, 5, edit, stats);
    unsent.clear();
  }
  report_cuts(stats);

  reader.sync();
  check_delivered(bed, expected, {&writer, &reader});
}

TEST_CASE("integration: connections cut at random bytes while pulling, with local edits pending, lose nothing") {
  std::mt19937 rng = seeded_rng(2002);

  Testbed bed;
  const std::string org = bed.admin().add_org("survey");
  FaultProxy proxy("127.0.0.1", bed.registry_port());
  const std::vector<Device> devices = bed.enroll({{"writer", org}, {"puller", org, "field", proxy_url(proxy)}});
  const Device& writer = devices[0];
  const Device& puller = devices[1];

  Records expected;
  Records unpulled;   // what the writer sent since the puller's last clean sync
  Records unreviewed;  // the puller's own edits since then
  int round = 0;
  const auto edit = [&] {
    // The writer changes a lot (all of it at first) and syncs directly...
    const std::string tag = "v" + std::to_string(round);
    Records changes = round++ == 0 ? sample_records(rng, 1200, "sub", tag) : sample_records(rng, 50, tag, tag);
    for (const std::string& id : pick_ids(rng, expected, 150)) changes[id] = sample_fields(rng, tag);
    write_records(writer, changes, expected);
    writer.sync();
    // ...while the puller has edits of its own waiting: another field, so nothing conflicts.
    Records reviews;
    for (const std::string& id : pick_ids(rng, expected, 50)) reviews[id] = {{"reviewed", "by puller " + tag}};
    write_records(puller, reviews, expected);
    for (const auto& change : changes) unpulled[change.first] = change.second;
    for (const auto& review : reviews) unreviewed[review.first] = review.second;
    return WireSizes{wire_size(unreviewed), wire_size(unpulled)};
  };
  CutStats stats;
  for (int iteration = 0; iteration < 6; ++iteration) {
    sync_through_cuts(puller, proxy, rng, 5, edit, stats);
    unpulled.clear();
    unreviewed.clear();
  }
  report_cuts(stats);

  writer.sync();
  check_delivered(bed, expected, {&writer, &puller});
}

// --- c. A client killed mid-sync ----------------------------------------------------------------

TEST_CASE("integration: a client killed with SIGKILL mid-sync loses and duplicates nothing") {
  std::mt19937 rng = seeded_rng(3003);

  Testbed bed;
  const std::string org = bed.admin().add_org("survey");
  // Slow enough that a sync of a few thousand records is still under way when it is killed.
  FaultProxy proxy("127.0.0.1", bed.registry_port());
  FaultProxy::Plan throttled;
  throttled.bytes_per_second = 200'000;
  proxy.set_plan(throttled);
  const std::vector<Device> devices =
      bed.enroll({{"writer", org, "field", proxy_url(proxy)}, {"puller", org, "field", proxy_url(proxy)}, {"reader", org}});
  const Device& writer = devices[0];
  const Device& puller = devices[1];
  const Device& reader = devices[2];

  Records expected;
  // Small records: batches of 500 commit every few hundred milliseconds, so kills land both
  // inside batches and between them.
  write_records(writer, sample_records(rng, 3000, "sub", "v0", 24), expected);

  // Kills the device's sync a few times after 50-400 ms; returns how many died mid-way.
  const auto kill_syncs = [&](const Device& device, int times) {
    int killed = 0;
    for (int i = 0; i < times; ++i) {
      BackgroundProcess sync_process({OUTPOST_BIN, "--home", device.home(), "sync"},
                                     {{}, bed.dir().file(device.name() + "-killed-sync.log")});
      std::this_thread::sleep_for(milliseconds(50 + rng() % 351));
      sync_process.send_signal(SIGKILL);
      const ProcessResult result = sync_process.wait(10s);
      killed += result.signal == SIGKILL;
      INFO(device.name() << " after kill " << i << ": " << device.status().dump());
      REQUIRE(integrity_of(device.replica_path()) == "ok");
    }
    MESSAGE(device.name() << ": " << killed << " of " << times << " syncs killed mid-way");
    return killed;
  };

  CHECK(kill_syncs(writer, 6) > 0);  // killed while pushing
  proxy.set_plan({});
  writer.sync();

  proxy.set_plan(throttled);
  CHECK(kill_syncs(puller, 4) > 0);  // killed while pulling
  proxy.set_plan({});
  puller.sync();

  reader.sync();
  check_delivered(bed, expected, {&writer, &puller, &reader});
}

// --- d. Organization isolation ------------------------------------------------------------------

TEST_CASE("integration: organizations are isolated on every route") {
  Testbed bed;
  const Http http(bed.registry_url());
  const std::string org1 = bed.admin().add_org("org-one");
  const std::string org2 = bed.admin().add_org("org-two");
  const std::string admin_token = bed.admin().admin_token();
  const std::vector<Device> devices =
      bed.enroll({{"a1", org1, "field"}, {"a2", org1, "admin"}, {"b1", org2, "field"}, {"a3", org1, "field"}});
  const Device& a1 = devices[0];
  const Device& a2 = devices[1];
  const Device& b1 = devices[2];
  const Device& a3 = devices[3];

  a1.put("shared-1", {{"status", "org one original"}});
  a1.put("org1-only", {{"status", "private to org one"}});
  a2.put("from-a2", {{"status", "org one admin"}});
  b1.put("b1-own", {{"status", "org two"}});
  for (const Device* device : {&a1, &a2, &b1, &a1}) device->sync();
  const Credentials a1_login = a1.credentials();
  const Credentials a2_login = a2.credentials();
  const Credentials b1_login = b1.credentials();

  SUBCASE("sync never hands one organization's records to another") {
    CHECK(b1.records() == Records{{"b1-own", {{"status", "org two"}}}});
    CHECK(b1.conflicts(true).empty());
    const Records org1_records = a1.records();
    CHECK(org1_records.size() == 3);
    CHECK_FALSE(org1_records.count("b1-own"));
    // The raw pull from the very beginning, too.
    sync::SyncRequest pull_all;
    pull_all.seq = b1_login.next_request_seq;
    const Json answer = expect_answer(http.post_sync(b1_login.token, pull_all), 200);
    for (const Json& change : answer.at("changes"))
      CHECK_MESSAGE(change.at("id") == "b1-own", "org two pulled " << change.dump());
  }

  SUBCASE("writing to another organization's record id is refused and writes nothing") {
    b1.put("shared-1", {{"status", "hijacked"}});
    const ProcessResult refused = b1.try_sync();
    INFO(refused.describe());
    CHECK(refused.succeeded());  // the change is refused, not the sync: it is kept aside
    CHECK(contains(refused.err, "the registry refused 1 change"));
    const ProcessResult listed = b1.run({"refused"});
    CHECK(contains(listed.out, "\"id\":\"shared-1\""));
    CHECK(contains(listed.out, "another organization"));
    const Json raw = expect_answer(http.post_sync(b1_login.token, write_request(b1_login.next_request_seq + 1, b1_login.replica_id,
                                                                                "shared-1", "status", "hijacked raw")),
                                   200);
    REQUIRE(raw.at("refused").size() == 1);
    CHECK(raw.at("refused")[0].at("error") == "forbidden");
    const Json kept = expect_answer(http.get(record_path("shared-1"), a1_login.token), 200);
    CHECK(kept.at("f").at("status").at("v") == "org one original");
    CHECK(kept.at("f").size() == 1);
    a1.sync();
    CHECK(a1.records().at("shared-1") == Json{{"status", "org one original"}});
    CHECK(a1.conflicts(true).empty());
  }

  SUBCASE("records are read only within the organization") {
    expect_refusal(http.get(record_path("shared-1"), b1_login.token), 404, "not_found");
    expect_refusal(http.get(record_path("b1-own"), a1_login.token), 404, "not_found");
    expect_answer(http.get(record_path("shared-1"), a2_login.token), 200);
    expect_answer(http.get(record_path("b1-own"), b1_login.token), 200);
  }

  SUBCASE("only an organization's admin invites to it") {
    expect_refusal(http.post_json("/v1/invites", b1_login.token, {{"org", org1}}), 403, "forbidden");
    expect_refusal(http.post_json("/v1/invites", a1_login.token, {{"org", org1}}), 403, "forbidden");
    expect_refusal(http.post_json("/v1/invites", a2_login.token, {{"org", org2}}), 403, "forbidden");
    const Json invited = expect_answer(http.post_json("/v1/invites", a2_login.token, {{"org", org1}}), 201);
    // The admin's code really joins its own organization.
    const Device newcomer = bed.device("newcomer");
    newcomer.enroll(bed.registry_url(), invited.at("code").get<std::string>());
    CHECK(newcomer.status().at("enrollment").at("org") == org1);
  }

  SUBCASE("devices are listed and revoked only within the organization") {
    const Json listed = expect_answer(http.get("/v1/devices", a2_login.token), 200);
    std::set<std::string> ids;
    for (const Json& device : listed.at("devices")) {
      ids.insert(device.at("id").get<std::string>());
      CHECK(device.at("org") == org1);
    }
    const std::string a3_id = a3.credentials().device_id;
    CHECK(ids == std::set<std::string>{a1_login.device_id, a2_login.device_id, a3_id});
    expect_refusal(http.get("/v1/devices", a1_login.token), 403, "forbidden");
    expect_refusal(http.get("/v1/devices", b1_login.token), 403, "forbidden");
    expect_refusal(http.send("POST", "/v1/devices/" + b1_login.device_id + "/revoke", a2_login.token), 403,
                   "forbidden");
    expect_refusal(http.send("POST", "/v1/devices/" + a3_id + "/revoke", b1_login.token), 403, "forbidden");
    // Still enrolled: b1's token works.
    expect_answer(http.get(record_path("b1-own"), b1_login.token), 200);
    // Within its own organization the admin can revoke, and the revoked device is shut out.
    expect_answer(http.send("POST", "/v1/devices/" + a3_id + "/revoke", a2_login.token), 200);
    check_one_line_reason(a3.try_sync(), "revoked");
  }

  SUBCASE("organizations are listed per device and created only by registry admins") {
    const auto org_ids = [&](const std::string& token) {
      const Json listed = expect_answer(http.get("/v1/orgs", token), 200);
      std::set<std::string> ids;
      for (const Json& org : listed.at("orgs")) ids.insert(org.at("id").get<std::string>());
      return ids;
    };
    CHECK(org_ids(a1_login.token) == std::set<std::string>{org1});
    CHECK(org_ids(b1_login.token) == std::set<std::string>{org2});
    expect_refusal(http.post_json("/v1/orgs", a2_login.token, {{"name", "org-three"}}), 403, "forbidden");
    expect_refusal(http.post_json("/v1/orgs", b1_login.token, {{"name", "org-three"}}), 403, "forbidden");
    const Json created = expect_answer(http.post_json("/v1/orgs", admin_token, {{"name", "org-three"}}), 201);
    CHECK(org_ids(admin_token) == std::set<std::string>{org1, org2, created.at("id").get<std::string>()});
    CHECK(org_ids(a1_login.token) == std::set<std::string>{org1});
  }
}

// --- e. Bad input ---------------------------------------------------------------------------------

TEST_CASE("integration: bad requests get clear 4xx JSON errors and write nothing") {
  Testbed bed;
  const Http http(bed.registry_url());
  const std::string org = bed.admin().add_org("survey");
  const std::vector<Device> devices = bed.enroll({{"sender", org}, {"observer", org}});
  const Device& observer = devices[1];
  const Credentials login = devices[0].credentials();
  int64_t seq = login.next_request_seq;

  // A sound request goes through, so each refusal below is down to its one defect.
  expect_answer(http.post_sync(login.token, write_request(seq, login.replica_id, "e-baseline")), 200);
  ++seq;
  std::set<std::string> written = {"e-baseline"};

  // Refused records must be absent; a device token can read anything of its organization.
  const auto check_absent = [&](const std::string& id, const std::string& collection = kCollection) {
    INFO("record " << collection << "/" << id);
    expect_refusal(http.get(record_path(id, collection), login.token), 404, "not_found");
  };
  const auto sync_body = [&](const std::string& id) {
    return sync::encode_request(write_request(seq, login.replica_id, id));
  };
  const std::vector<std::pair<std::string, std::string>> plain_json = {{"Content-Type", "application/json"}};

  SUBCASE("malformed JSON") {
    const Json error = expect_refusal(
        http.send("POST", "/v1/sync", login.token, sync_body("e-malformed").substr(0, 60), plain_json), 400,
        "malformed_json");
    CHECK(contains(error.at("message").get<std::string>(), "JSON"));
    check_absent("e-malformed");
  }
  SUBCASE("wrong or missing token") {
    expect_refusal(http.send("POST", "/v1/sync", "opd_" + std::string(64, '0'), sync_body("e-wrong-token"), plain_json),
                   401, "unauthorized");
    expect_refusal(http.send("POST", "/v1/sync", "", sync_body("e-no-token"), plain_json), 401, "unauthorized");
    expect_refusal(http.send("POST", "/v1/sync", "", sync_body("e-basic"),
                             {{"Content-Type", "application/json"}, {"Authorization", "Basic " + login.token}}),
                   401, "unauthorized");
    check_absent("e-wrong-token");
    check_absent("e-no-token");
    check_absent("e-basic");
  }
  SUBCASE("a body over 16 MiB") {
    const std::string body = padded_request_text(seq, login.replica_id, "e-oversized", sync::kMaxCompressedBody);
    REQUIRE(body.size() > sync::kMaxCompressedBody);
    expect_refusal(http.send("POST", "/v1/sync", login.token, body, plain_json), 413, "too_large");
    check_absent("e-oversized");
  }
  SUBCASE("a small zstd body expanding beyond 64 MiB") {
    const std::string bomb = outpost::compress::zstd_compress(
        padded_request_text(seq, login.replica_id, "e-bomb", sync::kMaxExpandedBody));
    REQUIRE(bomb.size() < 1024 * 1024);
    expect_refusal(http.send("POST", "/v1/sync", login.token, bomb,
                             {{"Content-Type", "application/json"}, {"Content-Encoding", sync::kZstd}}),
                   413, "too_large");
    check_absent("e-bomb");
  }
  SUBCASE("an unknown collection") {
    const Json error = expect_refusal(
        http.post_sync(login.token, write_request(seq, login.replica_id, "e-unknown", "status", "x", "no_such_thing")),
        422, "unknown_collection");
    CHECK(contains(error.at("message").get<std::string>(), "no_such_thing"));
    check_absent("e-unknown", "no_such_thing");
  }
  SUBCASE("invalid field names") {
    for (const std::string& field : std::vector<std::string>{"bad field!", "_system", std::string(129, 'f')}) {
      CAPTURE(field);
      expect_refusal(http.post_sync(login.token, write_request(seq, login.replica_id, "e-bad-field", field)), 400,
                     "invalid_field");
    }
    check_absent("e-bad-field");
  }
  SUBCASE("a stamp from another replica") {
    expect_refusal(http.post_sync(login.token, write_request(seq, "somebody-elses-replica-id", "e-foreign")), 400,
                   "foreign_stamp");
    check_absent("e-foreign");
  }
  SUBCASE("a request without seq") {
    Json body = Json::parse(sync::encode_request(write_request(seq, login.replica_id, "e-no-seq")));
    body.erase("seq");
    const Json error =
        expect_refusal(http.send("POST", "/v1/sync", login.token, body.dump(), plain_json), 400, "invalid_request");
    CHECK(contains(error.at("message").get<std::string>(), "seq"));
    check_absent("e-no-seq");
  }
  SUBCASE("unknown endpoints and wrong methods") {
    expect_refusal(http.get("/v1/nothing-here", login.token), 404, "not_found");
    expect_refusal(http.send("POST", "/v2/sync", login.token, sync_body("e-v2"), plain_json), 404, "not_found");
    expect_refusal(http.get("/v1/sync", login.token), 405, "method_not_allowed");
    expect_refusal(http.send("DELETE", record_path("e-baseline"), login.token), 405, "method_not_allowed");
    check_absent("e-v2");
  }
  SUBCASE("a replay of a confirmed request") {
    expect_answer(http.post_sync(login.token, write_request(seq, login.replica_id, "e-second")), 200);
    expect_answer(http.post_sync(login.token, write_request(seq + 1, login.replica_id, "e-third")), 200);
    written.insert({"e-second", "e-third"});
    // seq + 1 confirmed seq: sending that number again is a replay.
    const Json error =
        expect_refusal(http.post_sync(login.token, write_request(seq, login.replica_id, "e-replayed")), 409,
                       "stale_request");
    CHECK(error.value("expected_seq", int64_t{0}) == seq + 1);
    check_absent("e-replayed");
  }

  // Nothing but the sound requests reached the organization's data.
  observer.sync();
  std::set<std::string> ids;
  for (const auto& entry : observer.records()) ids.insert(entry.first);
  CHECK(ids == written);
  CHECK(observer.conflicts(true).empty());
  CHECK(integrity_of(bed.admin().db_path()) == "ok");
}

// --- f. CLI error paths -----------------------------------------------------------------------------

TEST_CASE("integration: CLI error paths name the problem in one line") {
  Testbed bed;
  const std::string org = bed.admin().add_org("survey");

  SUBCASE("sync before enrolling") {
    check_one_line_reason(bed.device("unenrolled").run({"sync"}), "not enrolled");
  }

  SUBCASE("sync with the registry down") {
    const Device device = bed.enroll({{"offline", org}})[0];
    device.put("r1", {{"status", "waiting"}});
    bed.stop_registry();
    const ProcessResult result = device.run({"sync", "--attempts", "2"});
    check_one_line_reason(result, "cannot reach the registry");
    const Json status = device.status();
    CHECK(status.at("pending_changes") == 1);
    CHECK(contains(status.at("last_sync").at("result").get<std::string>(), "cannot reach the registry"));
  }

  SUBCASE("an enrollment code already used by another device") {
    const std::string code = bed.admin().invite(org);
    bed.device("first").enroll(bed.registry_url(), code);
    const Device second = bed.device("second");
    check_one_line_reason(second.run({"enroll", bed.registry_url(), code, "--name", "second"}), "already used");
    CHECK(second.status().at("enrollment").is_null());
  }

  SUBCASE("enrolling again with the same code after the answer was lost") {
    FaultProxy proxy("127.0.0.1", bed.registry_port());
    FaultProxy::Plan lose_answer;
    lose_answer.cut_response_after = 0;
    proxy.set_plan(lose_answer);
    const std::string code = bed.admin().invite(org);
    const Device device = bed.device("retrier");
    check_one_line_reason(device.run({"enroll", proxy_url(proxy), code, "--name", "retrier"}), "safe to try again");
    CHECK(device.status().at("enrollment").is_null());
    // The registry did take the code: anybody else is turned away with it...
    check_one_line_reason(bed.device("other").run({"enroll", bed.registry_url(), code, "--name", "other"}),
                          "already used");
    // ...but the device whose answer was lost gets in with it.
    proxy.set_plan({});
    device.enroll(proxy_url(proxy), code);
    CHECK(device.status().at("enrollment").at("org") == org);
    device.put("r1", {{"status", "enrolled after a retry"}});
    device.sync();
    const std::vector<std::string> devices = lines_of(bed.admin().command({"device", "list"}));
    CHECK(std::count_if(devices.begin(), devices.end(),
                        [](const std::string& line) { return contains(line, "\tretrier"); }) == 1);
  }
}

// --- Product bugs these tests found (they fail until the registry is fixed) ------------------------

// The registry's SQLite store leaves single-row lookups (find_invite, device_where, meta, ...)
// stepped but not reset, so the server's connection keeps a read snapshot open between
// requests. Once anything else writes the database, every later BEGIN IMMEDIATE fails with
// SQLITE_BUSY and the server answers 503 to every request that touches storage, for good.
TEST_CASE("integration: the registry CLI can write while the server runs") {
  Testbed bed;
  const std::string org = bed.admin().add_org("survey");
  const Device first = bed.enroll({{"first", org}})[0];
  const std::string code = bed.admin().invite(org);  // a CLI write after the server's first request

  const ProcessResult second = bed.device("second").run({"enroll", bed.registry_url(), code, "--name", "second"});
  CHECK_MESSAGE(second.succeeded(), second.describe());
  first.put("r1", {{"status", "after a CLI write"}});
  const ProcessResult synced = first.try_sync();
  CHECK_MESSAGE(synced.succeeded(), synced.describe());
}

// httplib 0.11 reads the body of a PUT or PATCH that has neither Content-Length nor chunked
// encoding until the client closes, so such a request holds a server thread for the 60 s read
// timeout instead of being answered (405 here) at once.
TEST_CASE("integration: a PUT without a body is answered at once") {
  Testbed bed;
  const std::string org = bed.admin().add_org("survey");
  const Credentials login = bed.enroll({{"device", org}})[0].credentials();
  sync::CurlTransport::Options impatient;
  impatient.low_speed_bytes = 1;
  impatient.low_speed_time_s = 3;
  const Http http(bed.registry_url(), impatient);
  for (const std::string method : {"PUT", "PATCH"}) {
    CAPTURE(method);
    try {
      expect_refusal(http.send(method, "/v1/sync", login.token), 405, "method_not_allowed");
    } catch (const sync::TransportError& error) {
      FAIL_CHECK("no answer within 3 s: " << std::string(error.what()));
    }
  }
}

// --- Materials: files through a link cut every 256 KiB -------------------------------------------

namespace {

constexpr size_t kCutEvery = 256 * 1024;

sync::TransferOptions patient_transfer() {
  sync::TransferOptions options;
  options.first_backoff = 50ms;
  return options;
}

// A transfer that crossed `cuts` cuts lost at most the chunk in flight at each: by its own
// count, and on the wire (which also sees what libcurl re-sends by itself on a fresh
// connection). `wire_bytes` crossed the proxy in the file's direction; heads and the manifest
// are allowed for.
void check_at_most_one_chunk_per_cut(const sync::TransferReport& report, uint64_t cuts, uint64_t wire_bytes) {
  MESSAGE(report.size << " bytes through " << cuts << " cuts: " << report.requests << " requests, " << report.failures
                      << " failed, " << report.bytes_wasted << " bytes moved again; " << wire_bytes
                      << " bytes on the wire");
  CHECK(cuts >= report.size / kCutEvery - 1);
  CHECK(report.failures <= cuts);
  CHECK(report.bytes_wasted <= cuts * sync::kBlobChunkSize);
  CHECK(report.bytes_moved == report.size - report.resumed_bytes + report.bytes_wasted);
  const uint64_t chunks = (report.size + sync::kBlobChunkSize - 1) / sync::kBlobChunkSize;
  const uint64_t manifest_bytes = 100 + chunks * 70;
  const uint64_t overhead = (report.requests + cuts) * 1024 + (report.failures + 1) * manifest_bytes;
  CHECK(wire_bytes <= report.size + cuts * sync::kBlobChunkSize + overhead);
}

}  // namespace

TEST_CASE("integration: a download through a link cut every 256 KiB completes and re-fetches at most one chunk per cut") {
  Testbed bed;
  const std::string org = bed.admin().add_org("trainers");
  const std::string content = outpost::test::random_bytes(12 * 1000 * 1000 + 4321, 4004);
  const std::string manual = bed.dir().file("manual.pdf");
  outpost::files::write_file_atomic(manual, content);
  bed.admin().command({"material", "add", manual, "--title", "Field manual", "--lang", "en", "--org", org});
  const Credentials login = bed.enroll({{"trainer", org}})[0].credentials();

  FaultProxy proxy("127.0.0.1", bed.registry_port());
  FaultProxy::Plan plan;
  plan.cut_response_after = kCutEvery;
  proxy.set_plan(plan);
  sync::CurlTransport link(proxy_url(proxy));
  sync::BlobStore store(bed.dir().file("trainer-files"));
  sync::BlobTransfer transfer(store, link, login.token, patient_transfer());
  const std::string sha = outpost::crypto::sha256_hex(content);
  const sync::TransferReport report = transfer.download(sha);

  CHECK(outpost::crypto::sha256_hex(outpost::files::read_file(store.path(sha))) == sha);
  check_at_most_one_chunk_per_cut(report, proxy.cuts(), proxy.bytes_server_to_client());
}

TEST_CASE("integration: an upload through a link cut every 256 KiB completes and re-sends at most one chunk per cut") {
  Testbed bed;
  const std::string org = bed.admin().add_org("reporters");
  const Device reporter = bed.enroll({{"reporter", org}})[0];
  const std::string content = outpost::test::random_bytes(6 * 1000 * 1000 + 777, 5005);
  outpost::files::write_file_atomic(bed.dir().file("video.mp4"), content);
  sync::BlobStore store(bed.dir().file("reporter-files"));
  const std::string sha = store.add_file(bed.dir().file("video.mp4")).sha256;
  // The registry takes only files a record of the organization names.
  reporter.put("report-1", {{"attachments", {{"video.mp4", {{"sha256", sha}, {"size", content.size()}}}}}});
  reporter.sync();
  const Credentials login = reporter.credentials();

  FaultProxy proxy("127.0.0.1", bed.registry_port());
  FaultProxy::Plan plan;
  plan.cut_request_after = kCutEvery;
  proxy.set_plan(plan);
  sync::CurlTransport link(proxy_url(proxy));
  sync::BlobTransfer transfer(store, link, login.token, patient_transfer());
  const std::vector<sync::TransferReport> reports = transfer.upload({sha});
  REQUIRE(reports.size() == 1);

  const std::string stored = bed.admin().db_path() + ".blobs/objects/" + sha.substr(0, 2) + "/" + sha;
  CHECK(outpost::crypto::sha256_hex(outpost::files::read_file(stored)) == sha);
  check_at_most_one_chunk_per_cut(reports[0], proxy.cuts(), proxy.bytes_client_to_server());
  // The registry serves it back, whole and by range, to the organization that sent it.
  const Http http(bed.registry_url());
  const sync::HttpResponse whole = http.get("/v1/blobs/" + sha, login.token);
  CHECK(whole.status == 200);
  CHECK(whole.header("Content-Length") == std::to_string(content.size()));
  CHECK(whole.header("ETag") == "\"" + sha + "\"");
  CHECK(whole.body == content);
  const sync::HttpResponse part = http.send("GET", "/v1/blobs/" + sha, login.token, "", {{"Range", "bytes=100-199"}});
  CHECK(part.status == 206);
  CHECK(part.header("Content-Range") == "bytes 100-199/" + std::to_string(content.size()));
  CHECK(part.body == content.substr(100, 100));
  const sync::HttpResponse beyond =
      http.send("GET", "/v1/blobs/" + sha, login.token, "", {{"Range", "bytes=99999999-"}});
  expect_refusal(beyond, 416, "range_not_satisfiable");
  // An error answer is not cut to the Range asked for.
  expect_refusal(http.send("GET", "/v1/blobs/" + std::string(64, 'a'), login.token, "", {{"Range", "bytes=5-9"}}), 404,
                 "not_found");
}

TEST_CASE("integration: a trainer pins materials through a cut link, survives a kill -9, and finds them offline") {
  Testbed bed;
  const std::string org = bed.admin().add_org("trainers");
  const std::string assets = OUTPOST_ASSETS_DIR "/materials/";
  const std::string spanish =
      first_line(bed.admin().command({"material", "add", assets + "safe-data-collection.es.md", "--public"}));
  const std::string french = first_line(bed.admin().command({"material", "add", assets + "ecosoc-consultative-status.fr.md"}));
  const std::string content = outpost::test::random_bytes(3 * 1000 * 1000 + 99, 6006);
  outpost::files::write_file_atomic(bed.dir().file("toolkit.mp4"), content);
  const std::string toolkit = first_line(bed.admin().command(
      {"material", "add", bed.dir().file("toolkit.mp4"), "--title", "Advocacy training video", "--lang", "en", "--tag",
       "advocacy", "--org", org}));
  const Json listed = Json::parse(lines_of(bed.admin().command({"material", "list"})).back());
  CHECK(listed["id"] == toolkit);
  CHECK(listed["partition"] == org);

  FaultProxy proxy("127.0.0.1", bed.registry_port());
  const Device trainer = bed.enroll({{"trainer", org, "field", proxy_url(proxy)}})[0];
  trainer.sync();
  CHECK(lines_of(trainer.run_ok({"materials"})).size() == 3);

  // Killed while the file trickles in: what arrived stays, verified.
  FaultProxy::Plan slow;
  slow.bytes_per_second = 1'000'000;
  proxy.set_plan(slow);
  const std::string sha = outpost::crypto::sha256_hex(content);
  const std::string log = trainer.home() + "/blobs/partial/" + sha + ".chunks";
  {
    BackgroundProcess pin({OUTPOST_BIN, "--home", trainer.home(), "pin", toolkit}, {{}, bed.dir().file("pin.log")});
    for (int i = 0; i < 200 && (!outpost::files::exists(log) || outpost::files::read_file(log).size() < 20); ++i)
      std::this_thread::sleep_for(25ms);
    pin.send_signal(SIGKILL);
    CHECK(pin.wait(10s).signal == SIGKILL);
  }
  Json partial;
  for (const std::string& line : lines_of(trainer.run_ok({"materials"})))
    if (Json::parse(line)["id"] == toolkit) partial = Json::parse(line);
  CHECK(partial["state"] == "partial");
  const uint64_t kept = partial["stored_bytes"].get<uint64_t>();
  CHECK(kept > 0);

  // The rest comes through a link cut every 256 KiB.
  FaultProxy::Plan cutting;
  cutting.cut_response_after = kCutEvery;
  proxy.set_plan(cutting);
  const uint64_t before = proxy.bytes_server_to_client();
  const uint64_t cuts_before = proxy.cuts();
  const ProcessResult pinned = trainer.run({"pin", toolkit, "--attempts", "20"});
  REQUIRE_MESSAGE(pinned.succeeded(), pinned.describe());
  const uint64_t cuts = proxy.cuts() - cuts_before;
  MESSAGE("resumed from " << kept << " bytes; " << cuts << " cuts; " << pinned.err);
  CHECK(proxy.bytes_server_to_client() - before <= content.size() - kept + (cuts + 1) * (sync::kBlobChunkSize + 2048));
  const std::string path = first_line(trainer.run_ok({"open", toolkit}));
  CHECK(outpost::crypto::sha256_hex(outpost::files::read_file(path)) == sha);

  // Offline: the registry is gone, the library is not.
  proxy.set_plan({});
  trainer.run_ok({"pin", spanish});
  trainer.run_ok({"pin", french});
  bed.stop_registry();
  const Json found = Json::parse(first_line(trainer.run_ok({"materials", "--search", "proteccion datos sensibles"})));
  CHECK(found["id"] == spanish);
  CHECK(Json::parse(first_line(trainer.run_ok({"materials", "--search", "PROCÉDURE reglement"})))["id"] == french);
  trainer.run_ok({"evict", toolkit});
  CHECK(Json::parse(trainer.run_ok({"storage"}))["materials"].size() == 2);
  check_one_line_reason(trainer.run({"open", toolkit}), "is not on this device");
}

// --- Bundles and LAN sharing, with the registry gone ------------------------------------------

// At a workshop with no internet: the trainer hands a bundle to one participant and shares the
// library over the room's network with another, who pulls it through a link cut every 256 KiB.
TEST_CASE("integration: bundles and LAN sharing between devices with no registry reachable") {
  Testbed bed;
  const std::string org = bed.admin().add_org("trainers");
  const std::string guide =
      first_line(bed.admin().command({"material", "add", OUTPOST_ASSETS_DIR "/materials/workshop-planning.en.md"}));
  const std::string content = outpost::test::random_bytes(1'500'000 + 7, 4242);
  outpost::files::write_file_atomic(bed.dir().file("briefing.mp4"), content);
  const std::string video = first_line(bed.admin().command(
      {"material", "add", bed.dir().file("briefing.mp4"), "--title", "Briefing video", "--lang", "en", "--org", org}));
  const std::vector<Device> devices = bed.enroll({{"trainer", org}, {"reader", org}, {"listener", org}});
  const Device& trainer = devices[0];
  const Device& reader = devices[1];
  const Device& listener = devices[2];
  trainer.sync();
  trainer.run_ok({"pin", guide});
  trainer.run_ok({"pin", video});
  bed.stop_registry();

  auto check_has_both = [&](const Device& device) {
    for (const std::string& id : {guide, video}) {
      const std::string path = first_line(device.run_ok({"open", id}));
      CHECK(outpost::files::read_file(path) == outpost::files::read_file(first_line(trainer.run_ok({"open", id}))));
    }
    CHECK(Json::parse(first_line(device.run_ok({"materials", "--search", "workshop agenda"})))["id"] == guide);
  };

  const std::string bundle = bed.dir().file("workshop.bundle");
  trainer.run_ok({"bundle", "export", "--materials", guide + "," + video, bundle});
  reader.run_ok({"bundle", "import", bundle});
  check_has_both(reader);

  BackgroundProcess share({OUTPOST_BIN, "--home", trainer.home(), "share", "--listen", "127.0.0.1:0"},
                          {{}, bed.dir().file("share.log")});
  const auto listening = share.read_line(10s);
  REQUIRE(listening);
  REQUIRE(listening->rfind("listening on 127.0.0.1:", 0) == 0);
  const int port = std::stoi(listening->substr(std::string("listening on 127.0.0.1:").size()));
  FaultProxy proxy("127.0.0.1", static_cast<uint16_t>(port));
  FaultProxy::Plan cutting;
  cutting.cut_response_after = kCutEvery;
  proxy.set_plan(cutting);
  const ProcessResult pulled = listener.run({"pull-from", proxy_url(proxy), "--attempts", "20"});
  REQUIRE_MESSAGE(pulled.succeeded(), pulled.describe());
  MESSAGE(pulled.err << proxy.cuts() << " cuts");
  CHECK(proxy.cuts() > 0);
  check_has_both(listener);
  // The sharing device is read-only.
  const sync::HttpResponse refused = Http("http://127.0.0.1:" + std::to_string(port)).send("PUT", "/v1/blobs/x", "", "x");
  CHECK(refused.status == 405);

  share.send_signal(SIGTERM);
  CHECK(share.wait(10s).exit_code == 0);
}

// --- The window, driven like a person would, under Xvfb ---------------------------------------------

// The real outpost window on a virtual display enrolls with a typed address and code and syncs
// with "Sync now", through its screens: the script clicks controls where they are drawn and
// types into them. Each renderer: OpenGL 3 (Mesa's software one here, asked for with --opengl),
// SDL_Renderer, and the one the window chooses by itself (OpenGL where the machine has a GPU).
namespace {

// Ends a window script: sync from the Sync screen, wait for it to end well, close the window.
constexpr char kSyncThenQuit[] = "click nav.sync\nclick sync_now\nwait synced\nquit\n";

// The real outpost window of `device` under Xvfb (1024x700), driven by the script `steps`
// (written to `script_path`), keeping its font atlas in a cache of its own; `flags` are added.
ProcessResult run_window(const Device& device, const std::string& script_path, const std::string& steps,
                         const std::vector<std::string>& flags = {}) {
  outpost::files::write_file_atomic(script_path, steps);
  std::vector<std::string> argv = {"xvfb-run", "--auto-servernum", "--server-args=-screen 0 1024x700x24",
                                   OUTPOST_BIN, "--home", device.home(), "--size", "1024x700", "--script", script_path};
  argv.insert(argv.end(), flags.begin(), flags.end());
  return outpost::test::run_process(
      argv, {{{"LC_ALL", "C"}, {"OUTPOST_LOG", "info"}, {"XDG_CACHE_HOME", device.home() + "/cache"}}, 120s});
}

}  // namespace

TEST_CASE("integration: the window enrolls and syncs, driven by a script under xvfb-run") {
  enum class Choice { OpenGL, Software, Automatic };
  for (const Choice choice : {Choice::OpenGL, Choice::Software, Choice::Automatic}) {
    CAPTURE(static_cast<int>(choice));
    std::error_code no_dri;
    bool gpu = false;
    for (const auto& node : std::filesystem::directory_iterator("/dev/dri", no_dri))
      gpu = gpu || node.path().filename().string().rfind("renderD", 0) == 0;
    const bool software = choice == Choice::Software || (choice == Choice::Automatic && !gpu);
    Testbed bed;
    const std::string org = bed.admin().add_org("survey");
    const std::string window_code = bed.admin().invite(org);
    const std::string reader_code = bed.admin().invite(org);  // ahead of all HTTP traffic, see above
    const Device tablet = bed.device("tablet");
    tablet.put("hh-0001", {{"household", "Amina"}, {"members", 6}});  // offline work from before

    const std::vector<std::string> flags = choice == Choice::Software ? std::vector<std::string>{"--software-renderer"}
                                           : choice == Choice::OpenGL ? std::vector<std::string>{"--opengl"}
                                                                      : std::vector<std::string>{};
    const ProcessResult window = run_window(tablet, bed.dir().file("enroll-and-sync.script"),
                                            "click nav.settings\n"
                                            "click registry_url\n"
                                            "type " + bed.registry_url() + "\n"
                                            "click enrollment_code\n"
                                            "type " + window_code + "\n"
                                            "click enroll\n"
                                            "wait enrolled\n" + std::string(kSyncThenQuit),
                                            flags);
    REQUIRE_MESSAGE(window.succeeded(), window.describe());
    CHECK_MESSAGE(contains(window.err, software ? "drawing with SDL_Renderer (software)" : "drawing with OpenGL"),
                  window.err);
    if (choice == Choice::Automatic && !gpu) CHECK_MESSAGE(contains(window.err, "no GPU"), window.err);

    const Json status = tablet.status();
    CHECK(status["enrollment"]["org"] == org);
    CHECK(status["pending_changes"] == 0);
    CHECK(status["last_sync"]["result"] == "ok");

    const Device reader = bed.device("reader");
    reader.enroll(bed.registry_url(), reader_code);
    reader.sync();
    const Records records = reader.records();
    REQUIRE(records.count("hh-0001") == 1);
    CHECK(records.at("hh-0001") == Json{{"household", "Amina"}, {"members", 6}});
  }
}

// --- Forms: publish, fill offline, sync, export ------------------------------------------------

namespace {

namespace forms = outpost::forms;

const std::string kTemplates = OUTPOST_FORM_TEMPLATES;
const std::string kFixtures = OUTPOST_FORM_FIXTURES;

// A CSV file's rows as cells by header, with the header row (and the HXL row) apart.
struct CsvTable {
  std::vector<std::string> header;
  std::vector<std::map<std::string, std::string>> rows;
};

CsvTable read_csv_table(const std::string& path, size_t header_rows) {
  const forms::Sheet sheet = forms::parse_csv(outpost::files::read_file(path), path, "export");
  CsvTable table;
  REQUIRE(sheet.rows.size() >= header_rows);
  const forms::SheetRow& header = sheet.rows.front();
  for (const auto& [column, text] : header.cells) {
    table.header.resize(column + 1);
    table.header[column] = text;
  }
  for (size_t i = header_rows; i < sheet.rows.size(); ++i) {
    std::map<std::string, std::string> row;
    for (const auto& [column, text] : sheet.rows[i].cells) row[table.header.at(column)] = text;
    table.rows.push_back(std::move(row));
  }
  return table;
}

// A cell of a row; empty cells are not kept.
std::string cell(const std::map<std::string, std::string>& row, const std::string& column) {
  const auto found = row.find(column);
  return found == row.end() ? std::string() : found->second;
}

// The rows keyed by one of their columns.
std::map<std::string, std::map<std::string, std::string>> rows_by(const CsvTable& table, const std::string& key) {
  std::map<std::string, std::map<std::string, std::string>> rows;
  for (const auto& row : table.rows) rows[row.at(key)] = row;
  return rows;
}

std::string fill(const Device& device, const TempDir& dir, const std::string& form_id, const Json& answers) {
  const std::string path = dir.file(device.name() + "-answers.json");
  outpost::files::write_file_atomic(path, answers.dump());
  return first_line(device.run_ok({"fill", form_id, "--answers", path, "--finalize"}));
}

// Answers to the urgent incident report.
Json shelling_incident() {
  return {{"informed_consent", "OK"},
          {"incident_date", "2026-03-01"},
          {"incident_type", "shelling"},
          {"adm1", "Sud"},
          {"description", "Shelling near the market"},
          {"aid_workers_affected", "no"},
          {"referred", "no"},
          {"sharing", "coordination_anonymized"}};
}

Json activity(const std::string& sector, const std::string& name, const std::string& women, const std::string& men) {
  return {{"sector", sector}, {"activity", name},          {"adm1", "Nord"},     {"adm2", "Kaya"},
          {"status", "ongoing"}, {"start_date", "2026-02-01"}, {"targeted", "500"}, {"reached_women", women},
          {"reached_men", men}};
}

}  // namespace

TEST_CASE("integration: the 3W published, filled offline on two devices with repeats, synced and exported") {
  Testbed bed;
  const std::string org = bed.admin().add_org("Relief North");
  // Forms are published before any device talks to the server (see Testbed::enroll).
  bed.admin().command({"form", "publish", kTemplates + "/activity_3w", "--org", org});
  auto devices = bed.enroll({{"amina", org}, {"jean", org}});
  for (const Device& device : devices) {
    device.sync();
    CHECK(contains(device.run_ok({"forms"}), "\"id\":\"activity_3w\""));
  }

  // Offline: the registry is not asked again until both have filled their reports.
  const Json amina_answers = {{"org_name", "Solidarité Nord, Kaya"},
                              {"org_type", "nngo"},
                              {"reporting_period_end", "2026-02-28"},
                              {"activities", {activity("wash", "Hygiene kits", "120", "80")}},
                              {"contact_email", "amina@example.org"}};
  const Json jean_answers = {{"org_name", "Jeunesse \"Avenir\""},
                             {"org_type", "ingo"},
                             {"reporting_period_end", "2026-02-28"},
                             {"activities",
                              {activity("education", "Classrooms", "40", "35"),
                               activity("protection", "Child-friendly space", "60", "55")}}};
  const std::string amina_id = fill(devices[0], bed.dir(), "activity_3w", amina_answers);
  const std::string jean_id = fill(devices[1], bed.dir(), "activity_3w", jean_answers);
  for (const Device& device : devices) device.sync();
  for (const Device& device : devices) device.sync();  // each now holds the other's submission too
  CHECK(devices[0].records().count(jean_id) == 1);
  bed.stop_registry();

  const std::string out = bed.dir().file("export");
  bed.admin().command({"export", "activity_3w", "--format", "hxl", "--out", out});
  const CsvTable main = read_csv_table(out + "/activity_3w.csv", 2);
  const auto submissions = rows_by(main, "_submission_id");
  REQUIRE(submissions.size() == 2);
  const std::vector<std::string> questions{"org_name", "org_acronym", "org_type", "reporting_period_end",
                                           "contact_email"};
  for (const auto& [id, answers] : {std::pair{amina_id, amina_answers}, std::pair{jean_id, jean_answers}}) {
    CAPTURE(id);
    const auto& row = submissions.at(id);
    for (const std::string& question : questions) {
      CHECK(cell(row, question) == answers.value(question, ""));  // exactly the answers, nothing more
    }
  }
  const CsvTable activities = read_csv_table(out + "/activity_3w-activities.csv", 2);
  REQUIRE(activities.rows.size() == 3);
  for (const auto& [id, answers] : {std::pair{amina_id, amina_answers}, std::pair{jean_id, jean_answers}}) {
    size_t index = 0;
    for (const Json& entry : answers.at("activities")) {
      ++index;
      const auto row = std::find_if(activities.rows.begin(), activities.rows.end(), [&](const auto& candidate) {
        return cell(candidate, "_parent_id") == id && cell(candidate, "_index") == std::to_string(index);
      });
      REQUIRE(row != activities.rows.end());
      for (const auto& [question, value] : entry.items()) CHECK(cell(*row, question) == value.get<std::string>());
      CHECK(cell(*row, "reached_total") ==
            std::to_string(std::stoi(entry.at("reached_women").get<std::string>()) +
                           std::stoi(entry.at("reached_men").get<std::string>())));
    }
  }
  // The HXL row tags each column from the form's hxl column.
  const forms::Sheet hxl = forms::parse_csv(outpost::files::read_file(out + "/activity_3w.csv"), "export", "export");
  const auto org_name_column =
      std::find(main.header.begin(), main.header.end(), "org_name") - main.header.begin();
  CHECK(hxl.rows.at(1).cells.at(static_cast<size_t>(org_name_column)) == "#org +name");
}

TEST_CASE("integration: an urgent submission finalized after 200 ordinary ones goes in the first sync request") {
  Testbed bed;
  const std::string org = bed.admin().add_org("Relief South");
  bed.admin().command({"form", "publish", kTemplates + "/activity_3w", "--org", org});
  bed.admin().command({"form", "publish", kTemplates + "/incident_report", "--org", org});
  auto devices = bed.enroll({{"field", org}});
  const Device& device = devices[0];
  device.sync();

  {  // 200 ordinary reports, written through the same code the CLI uses, to keep the test quick
    outpost::client::Home home(device.home());
    const auto form = outpost::client::load_latest_form(home.replica(), "activity_3w");
    for (int i = 0; i < 200; ++i) {
      outpost::client::SubmissionDraft draft(home.replica(), *form, "", {"field", [] { return forms::LocalTime{1772352000000, 0}; }});
      outpost::form_records::apply_answers(
          draft.session(), {{"org_name", "Relief South " + std::to_string(i)},
                            {"org_type", "nngo"},
                            {"reporting_period_end", "2026-02-28"},
                            {"activities", {activity("wash", "Water trucking", "10", "10")}}});
      REQUIRE(draft.finalize().empty());
    }
  }
  const std::string urgent_id = fill(device, bed.dir(), "incident_report", shelling_incident());

  // Small batches, so the ordinary reports need several requests; after the first one, the
  // registry already holds the incident.
  outpost::client::Home home(device.home());
  const Credentials credentials = device.credentials();
  sync::CurlTransport transport(bed.registry_url());
  sync::SyncOptions options;
  options.batch_records = 50;
  std::vector<int> urgent_status;
  options.on_batch = [&](const sync::SyncReport&) {
    urgent_status.push_back(
        Http(bed.registry_url()).get("/v1/records/submissions/" + urgent_id, credentials.token).status);
  };
  const sync::SyncReport report = home.sync(transport, options).records;
  CHECK(report.pushed_changes == 201);
  REQUIRE(urgent_status.size() >= 5);
  CHECK(urgent_status.front() == 200);
}

TEST_CASE("integration: a photo follows the urgent report filed after it, through a cut link and a kill, to the export") {
  Testbed bed;
  const std::string org = bed.admin().add_org("Relief West");
  const std::string other_org = bed.admin().add_org("Elsewhere");
  bed.admin().command({"form", "publish", kFixtures + "/all_types", "--org", org});
  bed.admin().command({"form", "publish", kTemplates + "/incident_report", "--org", org});
  FaultProxy proxy("127.0.0.1", bed.registry_port());
  auto devices = bed.enroll({{"field", org, "field", proxy_url(proxy)}, {"outsider", other_org}});
  const Device& field = devices[0];
  field.sync();
  const Credentials login = field.credentials();
  const Http registry(bed.registry_url());

  // A 1 MiB photo, then an urgent report. The device keeps its own copy of the photo.
  const std::string photo = bed.dir().file("IMG_0001.jpg");
  outpost::files::write_file_atomic(photo, outpost::test::jpeg_bytes(1024 * 1024, 7007));
  const std::string photo_sha = outpost::crypto::sha256_hex(outpost::files::read_file(photo));
  const std::string survey_id = fill(field, bed.dir(), "all_types", {{"an_image", photo}});
  const std::string urgent_id = fill(field, bed.dir(), "incident_report", shelling_incident());
  std::filesystem::remove(photo);

  // Through a link cut every 256 KiB: the first request brings the urgent report in, before any
  // byte of the photo moves; the photo follows, re-sending at most one chunk per cut.
  FaultProxy::Plan cutting;
  cutting.cut_request_after = kCutEvery;
  proxy.set_plan(cutting);
  const uint64_t cuts_before = proxy.cuts(), bytes_before = proxy.bytes_client_to_server();
  std::vector<std::pair<int, int>> after_batches;  // statuses of the urgent record and of the photo
  outpost::client::HomeSyncReport report;
  {
    outpost::client::Home home(field.home());
    sync::CurlTransport link(proxy_url(proxy));
    sync::SyncOptions options;
    options.first_backoff = 50ms;
    options.on_batch = [&](const sync::SyncReport&) {
      after_batches.emplace_back(registry.get("/v1/records/submissions/" + urgent_id, login.token).status,
                                 registry.get("/v1/blobs/" + photo_sha + "/manifest", login.token).status);
    };
    report = home.sync(link, options);
  }
  REQUIRE_FALSE(after_batches.empty());
  CHECK(after_batches.front() == std::pair<int, int>{200, 404});
  REQUIRE(report.attachments.files.size() == 1);
  check_at_most_one_chunk_per_cut(report.attachments.files[0], proxy.cuts() - cuts_before,
                                  proxy.bytes_client_to_server() - bytes_before);
  CHECK(outpost::crypto::sha256_hex(registry.get("/v1/blobs/" + photo_sha, login.token).body) == photo_sha);

  // A second file, and the sync killed while it trickles in.
  const std::string map = bed.dir().file("map.pdf");
  outpost::files::write_file_atomic(map, outpost::test::random_bytes(2'000'000, 7008));
  const std::string map_sha = outpost::crypto::sha256_hex(outpost::files::read_file(map));
  const std::string second_id = fill(field, bed.dir(), "all_types", {{"a_file", map}});
  FaultProxy::Plan slow;
  slow.bytes_per_second = 500'000;
  proxy.set_plan(slow);
  const std::string log = bed.admin().db_path() + ".blobs/partial/" + map_sha + ".chunks";
  {
    BackgroundProcess syncing({OUTPOST_BIN, "--home", field.home(), "sync"}, {{}, bed.dir().file("sync.log")});
    for (int i = 0; i < 400 && (!outpost::files::exists(log) || outpost::files::read_file(log).size() < 10); ++i)
      std::this_thread::sleep_for(25ms);
    syncing.send_signal(SIGKILL);
    CHECK(syncing.wait(10s).signal == SIGKILL);
  }

  // Meanwhile the export has the record but not its file yet: it says so and goes on.
  const std::string early = bed.dir().file("early-export");
  const ProcessResult partial_export =
      run_command({OUTPOST_REGISTRY_BIN, "--db", bed.admin().db_path(), "export", "all_types", "--out", early});
  CHECK_MESSAGE(partial_export.succeeded(), partial_export.describe());
  CHECK(contains(partial_export.err, "map.pdf (" + map_sha + ") has not been uploaded yet"));
  CHECK(outpost::files::exists(early + "/media/" + survey_id + "/IMG_0001.jpg"));

  // The next sync resumes where the killed one stopped.
  proxy.set_plan({});
  const ProcessResult resumed = field.run({"sync"});
  REQUIRE_MESSAGE(resumed.succeeded(), resumed.describe());
  CHECK(contains(resumed.err, "sent 1 file ("));
  CHECK(contains(resumed.err, "resumed after"));

  const std::string out = bed.dir().file("export");
  bed.admin().command({"export", "all_types", "--out", out});
  const auto rows = rows_by(read_csv_table(out + "/all_types.csv", 1), "_submission_id");
  CHECK(cell(rows.at(survey_id), "an_image") == "IMG_0001.jpg");
  CHECK(cell(rows.at(second_id), "a_file") == "map.pdf");
  CHECK(outpost::crypto::sha256_hex(outpost::files::read_file(out + "/media/" + survey_id + "/IMG_0001.jpg")) ==
        photo_sha);
  CHECK(outpost::crypto::sha256_hex(outpost::files::read_file(out + "/media/" + second_id + "/map.pdf")) == map_sha);

  // Another organization cannot fetch them.
  const std::string outsider = devices[1].credentials().token;
  expect_refusal(registry.get("/v1/blobs/" + photo_sha, outsider), 404, "not_found");
  expect_refusal(registry.get("/v1/blobs/" + map_sha + "/manifest", outsider), 404, "not_found");
}

TEST_CASE("integration: the window fills and finalizes a form, syncs, and the registry holds the submission") {
  Testbed bed;
  const std::string org = bed.admin().add_org("Relief South");
  bed.admin().command({"form", "publish", kTemplates + "/sitrep", "--org", org});
  auto devices = bed.enroll({{"field", org}});
  const Device& tablet = devices[0];
  tablet.sync();

  // Six pages: the report, highlights, key figures, overview, cluster updates (none), contact.
  const ProcessResult window = run_window(tablet, bed.dir().file("fill-sitrep.script"),
                                          "click nav.forms\n"
                                          "click start.sitrep\n"
                                          "click answer.crisis_name\ntype Cyclone Freddy\n"
                                          "click answer.report_number\ntype 3\n"
                                          "click answer.as_of\ntype 2026-03-01\n"
                                          "click answer.reporting_org\ntype Relief South\n"
                                          "click page_next\n"
                                          "click answer.highlights\ntype Roads cut in the south\n"
                                          "click page_next\n"
                                          "click page_next\n"
                                          "click answer.situation_overview\ntype Flooding along the river\n"
                                          "click page_next\n"
                                          "click page_next\n"
                                          "click finalize\n" + std::string(kSyncThenQuit));
  REQUIRE_MESSAGE(window.succeeded(), window.describe());
  // The font atlas it built is kept for the next start (client/ui/font_cache.h).
  CHECK(std::distance(std::filesystem::directory_iterator(tablet.home() + "/cache/outpost"),
                      std::filesystem::directory_iterator()) == 1);

  std::vector<std::string> submitted;
  {
    outpost::client::Home home(tablet.home());
    home.replica().for_each_record("submissions", false, [&](sync::Record&& record) {
      CHECK(record.values().value("state", "") == "finalized");
      submitted.push_back(record.id);
    });
  }
  REQUIRE(submitted.size() == 1);
  const auto answer = Http(bed.registry_url()).get("/v1/records/submissions/" + submitted[0], tablet.credentials().token);
  CHECK(answer.status == 200);
  CHECK_MESSAGE(contains(answer.body, "Cyclone Freddy"), answer.body);
}

TEST_CASE("integration: the window attaches a photo by a typed path, and the registry receives it with the report") {
  Testbed bed;
  const std::string org = bed.admin().add_org("Relief West");
  const std::string form_dir = bed.dir().file("site_photo");
  std::filesystem::create_directory(form_dir);
  outpost::files::write_file_atomic(form_dir + "/survey.csv", "type,name,label\ntext,place,Place\nimage,photo,Photo\n");
  outpost::files::write_file_atomic(form_dir + "/settings.csv", "form_id,version,form_title\nsite_photo,1,Site photo\n");
  bed.admin().command({"form", "publish", form_dir, "--org", org});
  auto devices = bed.enroll({{"field", org}});
  const Device& tablet = devices[0];
  tablet.sync();
  const std::string photo = bed.dir().file("IMG_0100.jpg");
  const std::string photo_bytes = outpost::test::jpeg_bytes(300'000, 100);
  outpost::files::write_file_atomic(photo, photo_bytes);

  // Two pages: the place, then the photo, chosen by its path in the file browser.
  const ProcessResult window = run_window(tablet, bed.dir().file("site-photo.script"),
                                          "click nav.forms\n"
                                          "click start.site_photo\n"
                                          "click answer.place\ntype Kalobeyei\n"
                                          "click page_next\n"
                                          "click choose.photo\n"
                                          "click files.photo.path\ntype " + photo + "\n"
                                          "click files.photo.use\n"
                                          "see remove_file.photo\n"  // shown once the worker attached it
                                          "click finalize\n" + std::string(kSyncThenQuit));
  REQUIRE_MESSAGE(window.succeeded(), window.describe());

  std::string submission;
  {
    outpost::client::Home home(tablet.home());
    home.replica().for_each_record("submissions", false, [&](sync::Record&& record) { submission = record.id; });
  }
  REQUIRE(!submission.empty());
  Http registry(bed.registry_url());
  const auto record = registry.get("/v1/records/submissions/" + submission, tablet.credentials().token);
  REQUIRE(record.status == 200);
  const std::string sha = outpost::crypto::sha256_hex(photo_bytes);
  CHECK_MESSAGE(contains(record.body, sha), record.body);
  CHECK_MESSAGE(contains(record.body, "image/jpeg"), record.body);
  const auto file = registry.get("/v1/blobs/" + sha, tablet.credentials().token);
  CHECK(file.status == 200);
  CHECK(file.body == photo_bytes);
}

TEST_CASE("integration: publishing refuses a broken form at its cell, and a republished form keeps its old version") {
  Testbed bed;
  const std::string org = bed.admin().add_org("Relief East");
  const std::string form_dir = bed.dir().file("sitrep");
  std::filesystem::copy(kTemplates + "/sitrep", form_dir);
  const std::string survey = form_dir + "/survey.csv";
  const std::string good_survey = outpost::files::read_file(survey);

  outpost::files::write_file_atomic(
      survey, "type,name,label,relevant\ninteger,report_number,N\ndate,as_of,As of\ntext,note,Note,(${report_number} > 5\n");
  const std::vector<std::string> publish{OUTPOST_REGISTRY_BIN, "--db", bed.admin().db_path(), "form", "publish",
                                         form_dir, "--org", org};
  check_one_line_reason(run_command(publish),
                        "survey row 4, column D (relevant): expected ')' but found the end of the expression at "
                        "position 21");

  outpost::files::write_file_atomic(survey, good_survey);
  bed.admin().command({"form", "publish", form_dir, "--org", org});
  const std::string settings = outpost::files::read_file(form_dir + "/settings.csv");
  const std::string republished = std::regex_replace(settings, std::regex("2026\\.1"), "2026.2");
  REQUIRE(republished != settings);
  outpost::files::write_file_atomic(form_dir + "/settings.csv", republished);
  bed.admin().command({"form", "publish", form_dir, "--org", org});

  auto devices = bed.enroll({{"field", org}});
  const Device& device = devices[0];
  device.sync();
  CHECK(contains(device.run_ok({"forms"}), "\"version\":\"2026.2\""));
  std::set<std::string> versions;
  for (const std::string& line : lines_of(device.run_ok({"record", "list", "forms"}))) {
    versions.insert(Json::parse(line).at("id").get<std::string>());
  }
  CHECK(versions == std::set<std::string>{"sitrep", "sitrep@2026.1", "sitrep@2026.2"});

  // Errors name their question; nothing is saved.
  const std::string answers = bed.dir().file("answers.json");
  outpost::files::write_file_atomic(answers, "{}");
  const ProcessResult result = device.run({"fill", "sitrep", "--answers", answers, "--finalize"});
  INFO(result.describe());
  CHECK(result.exit_code == 1);
  CHECK(contains(result.err, "outpost: report_number: "));
  CHECK(contains(result.err, "nothing was saved"));
  CHECK(device.run_ok({"record", "list", "submissions"}).empty());
}
