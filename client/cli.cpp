#include "client/cli.h"

#include <iostream>
#include <optional>

#include "client/attachments.h"
#include "client/bundle.h"
#include "client/curl_module.h"
#include "client/forms_commands.h"
#include "client/home.h"
#include "client/library.h"
#include "client/modules.h"
#include "client/share.h"
#include "registry/server.h"
#include "platform/cli_args.h"
#include "platform/clock.h"
#include "sync/curl_transport.h"

namespace outpost::client {

using sync::Json;

using cli::expect_args;
using cli::take_flag;
using cli::take_option;
using cli::UsageError;

namespace {

constexpr char kUsage[] = R"(usage: outpost [--home DIR] COMMAND ...

  enroll URL CODE [--name NAME]       join a registry with a one-time enrollment code
  record put COLLECTION ID FIELD=JSON... [--priority N]
                                      write fields of a record (values are JSON: 3, "text", true)
  record get COLLECTION ID            print a record as JSON
  record delete COLLECTION ID         delete a record (it can be restored from a conflict)
  record list COLLECTION              print the collection's records, one JSON object a line
  sync [--attempts N]                 exchange changes with the registry
  conflicts [--all]                   list open conflicts (with --all, resolved ones too)
  resolve CONFLICT_ID --value JSON    settle a conflict with the value to keep
  refused                             writes the registry refused (another organization's id, a
                                      record it publishes), one JSON object a line: the record
                                      keeps the values; write them under another id to send them.
                                      Then files it refused, with its reason (asked at every sync)
  status                              pending changes, open conflicts, refused writes and files,
                                      last sync
  materials [--search WORDS] [--limit N]
                                      the library, one JSON object a line (with --search: the
                                      best matches first, with a snippet; accents do not matter)
  pin ID [--attempts N]               download a material and keep it on this device
  unpin ID                            stop keeping it (its file stays until evicted)
  evict ID                            delete its file from this device
  open ID                             print where its file is on this device
  storage [--quota-mb N]              what the library's files take, per material, and the
                                      submissions' photos and files; with --quota-mb, limit the
                                      library's files to N MB (0: the disk's free space)
  bundle export --materials ID,... [--forms ID,...] FILE
                                      write materials (their files and signed records) and forms
                                      into one bundle file, to hand out without a connection
  bundle import FILE                  check a bundle against the registry's signature, then add
                                      its materials (pinned) and forms; nothing is kept if any
                                      part is wrong
  share --listen ADDR:PORT            serve this device's materials (those whose files it holds)
                                      and forms, read-only, to devices nearby; prints `listening
                                      on ADDR:PORT` (port 0 picks a free one); stops on Ctrl-C
  pull-from http://ADDR:PORT [--attempts N]
                                      fetch every material and form a sharing device offers, each
                                      file checked against the registry's signature, resuming
  forms                               list the forms published to this device, one JSON object a line
  fill FORM_ID --answers FILE.json [--finalize] [--language KEY]
                                      fill a form with answers ({"question": value, "repeat": [{...}]});
                                      an image or file answer is the path of a file, kept on this
                                      device and sent after the submission; prints the submission
                                      id; errors name their question
  fill FORM_ID --submission ID [--answers FILE.json] [--finalize]
                                      continue a draft with more answers (a finalized submission
                                      cannot be edited)

Without a COMMAND, outpost opens its window:
  outpost [--home DIR] [--software-renderer | --opengl] [--fullscreen] [--size WIDTHxHEIGHT]
          [--script FILE | --screenshot-dir DIR]
(The window draws with OpenGL 3 where the machine has a GPU, in software where not; the two
flags choose.)

--home DIR defaults to $OUTPOST_HOME, or ~/.local/share/outpost.
)";

Json parse_value(const std::string& text, const std::string& what) {
  Json value = Json::parse(text, nullptr, false);
  if (value.is_discarded())
    throw UsageError(what + ": '" + text + "' is not JSON (text needs quotes, e.g. '\"" + text + "\"')");
  return value;
}

std::string iso_time(int64_t ms) { return ms <= 0 ? "" : iso_utc(ms); }

Json record_json(const sync::Record& record) {
  return {{"collection", record.collection},
          {"id", record.id},
          {"fields", record.values()},
          {"deleted", record.deleted},
          {"updated_at", iso_time(record.updated_ms)}};
}

Json side_json(const sync::ConflictSide& side) {
  return {{"value", side.value}, {"by", side.by}, {"at", iso_time(side.wall_ms)}};
}

Json conflict_json(const sync::Conflict& conflict) {
  Json json = {{"id", conflict.id},
               {"collection", conflict.collection},
               {"record", conflict.record_id},
               {"field", conflict.field},
               {"kept", side_json(conflict.kept)},
               {"lost", side_json(conflict.lost)},
               {"detected_at", iso_time(conflict.detected_ms)},
               {"open", conflict.open}};
  if (conflict.resolution) json["resolution"] = *conflict.resolution;
  return json;
}

std::string human_bytes(size_t bytes) {
  if (bytes < 10 * 1024) return std::to_string(bytes) + " B";
  if (bytes < 10 * 1024 * 1024) return std::to_string(bytes / 1024) + " KiB";
  return std::to_string(bytes / (1024 * 1024)) + " MiB";
}

Json material_json(const Material& material) {
  Json json = {{"id", material.id}};
  json.update(material.info.to_fields());
  json["created"] = iso_time(material.info.created_ms);
  json["pinned"] = material.pinned;
  json["state"] = state_name(material.state);
  json["stored_bytes"] = material.stored_bytes;
  return json;
}

// A transport to the registry this home is enrolled with.
std::unique_ptr<sync::Transport> registry_transport(Home& home, const TransportFactory& transports) {
  auto enrolled = home.enrollment();
  if (!enrolled) throw ClientError("this device is not enrolled: run `outpost enroll URL CODE` first");
  return transports(enrolled->registry_url);
}

// --- Commands

int record_command(Home& home, std::vector<std::string> args, std::ostream& out) {
  if (args.empty()) throw UsageError("usage: outpost record put|get|delete|list ...");
  const std::string action = args[0];
  args.erase(args.begin());
  sync::Replica& replica = home.replica();
  if (action == "put") {
    const int priority = static_cast<int>(cli::take_int_option(args, "--priority", 0));
    if (args.size() < 3) throw UsageError("usage: outpost record put COLLECTION ID FIELD=JSON...");
    home.check_collection(args[0]);
    Json fields = Json::object();
    for (size_t i = 2; i < args.size(); ++i) {
      const auto equals = args[i].find('=');
      if (equals == std::string::npos || equals == 0)
        throw UsageError("'" + args[i] + "' is not FIELD=JSON (for example name='\"Amina\"' or count=3)");
      const std::string name = args[i].substr(0, equals);
      fields[name] = parse_value(args[i].substr(equals + 1), "field " + name);
    }
    replica.put(args[0], args[1], fields, priority);
    return 0;
  }
  if (action == "get") {
    expect_args(args, 2, "outpost record get COLLECTION ID");
    auto record = replica.get(args[0], args[1]);
    if (!record) throw ClientError("no record " + args[0] + "/" + args[1]);
    if (record->deleted)
      throw ClientError("record " + args[0] + "/" + args[1] + " was deleted on " + iso_time(record->tombstone->wall_ms));
    out << record_json(*record).dump() << "\n";
    return 0;
  }
  if (action == "delete") {
    expect_args(args, 2, "outpost record delete COLLECTION ID");
    replica.remove(args[0], args[1]);
    return 0;
  }
  if (action == "list") {
    expect_args(args, 1, "outpost record list COLLECTION");
    for (const sync::Record& record : replica.list(args[0])) out << record_json(record).dump() << "\n";
    return 0;
  }
  throw UsageError("unknown record action '" + action + "': use put, get, delete or list");
}

int library_command(Home& home, const std::string& command, std::vector<std::string> args, std::ostream& out,
                    std::ostream& err, const TransportFactory& transports) {
  Library library(home);
  if (command == "materials") {
    const auto query = take_option(args, "--search");
    const int64_t limit = cli::take_int_option(args, "--limit", 20);
    expect_args(args, 0, "outpost materials [--search WORDS] [--limit N]");
    if (!query) {
      for (const Material& material : library.catalog()) out << material_json(material).dump() << "\n";
      return 0;
    }
    if (limit < 1) throw UsageError("--limit wants a number of results from 1");
    for (const SearchHit& hit : library.search(*query, static_cast<size_t>(limit))) {
      Json json = material_json(hit.material);
      json["snippet"] = hit.snippet;
      json["score"] = hit.score;
      out << json.dump() << "\n";
    }
    return 0;
  }
  if (command == "storage") {
    const int64_t quota_mb = cli::take_int_option(args, "--quota-mb", -1);
    expect_args(args, 0, "outpost storage [--quota-mb N]");
    if (quota_mb >= 0) {
      Library::set_quota(home, static_cast<uint64_t>(quota_mb) * 1000 * 1000);
      return 0;
    }
    Json materials = Json::array();
    for (const Material& material : library.catalog())
      if (material.pinned || material.stored_bytes > 0)
        materials.push_back({{"id", material.id},
                             {"title", material.info.title},
                             {"pinned", material.pinned},
                             {"state", state_name(material.state)},
                             {"stored_bytes", material.stored_bytes}});
    out << Json{{"used_bytes", library.used_bytes()},
                {"quota_bytes", library.quota_bytes() > 0 ? Json(library.quota_bytes()) : Json()},
                {"materials", materials},
                {"attachment_bytes", AttachmentStore(home).used_bytes()}}
               .dump()
        << "\n";
    return 0;
  }
  if (command == "pin") {
    sync::TransferOptions options;
    options.max_attempts = static_cast<int>(cli::take_int_option(args, "--attempts", options.max_attempts));
    expect_args(args, 1, "outpost pin ID [--attempts N]");
    const sync::TransferReport report = library.pin(args[0], *registry_transport(home, transports), options);
    err << "pinned " << args[0] << ": " << sync::megabytes(report.size);
    if (report.skipped) err << ", already on this device";
    if (report.resumed_bytes > 0 && !report.skipped) err << ", resumed from " << sync::megabytes(report.resumed_bytes);
    if (report.failures > 0) err << ", " << report.failures << " interrupted requests retried";
    err << "\n";
    return 0;
  }
  expect_args(args, 1, "outpost " + command + " ID");
  if (command == "unpin") library.unpin(args[0]);
  if (command == "evict") err << "freed " << sync::megabytes(library.evict(args[0])) << "\n";
  if (command == "open") out << library.local_path(args[0]) << "\n";
  return 0;
}

std::vector<std::string> comma_list(const std::optional<std::string>& text) {
  std::vector<std::string> items;
  if (!text) return items;
  for (size_t start = 0; start <= text->size();) {
    const size_t comma = std::min(text->find(',', start), text->size());
    if (comma > start) items.push_back(text->substr(start, comma - start));
    start = comma + 1;
  }
  return items;
}

int bundle_command(Home& home, std::vector<std::string> args, std::ostream& err) {
  const std::string action = args.empty() ? "" : args[0];
  if (!args.empty()) args.erase(args.begin());
  if (action == "export") {
    const auto materials = comma_list(take_option(args, "--materials"));
    const auto forms = comma_list(take_option(args, "--forms"));
    expect_args(args, 1, "outpost bundle export --materials ID,... [--forms ID,...] FILE");
    export_bundle(home, materials, forms, args[0]);
    err << "wrote " << args[0] << ": " << materials.size() << " materials, " << forms.size() << " forms\n";
    return 0;
  }
  if (action == "import") {
    expect_args(args, 1, "outpost bundle import FILE");
    const BundleImport report = import_bundle(home, args[0]);
    err << "imported " << report.materials << " materials (" << sync::megabytes(report.file_bytes) << ") and "
        << report.forms << " forms, all verified\n";
    return 0;
  }
  throw UsageError("unknown bundle action '" + action + "': use export or import");
}

int share_command(Home& home, std::vector<std::string> args, std::ostream& out) {
  const auto listen = take_option(args, "--listen");
  expect_args(args, 0, "outpost share --listen ADDR:PORT");
  if (!listen) throw UsageError("outpost share wants --listen ADDR:PORT, e.g. --listen 0.0.0.0:8450");
  const auto [host, port] = registry::parse_listen(*listen);
  serve_share(home, host, port, [&out](const std::string& bound_host, int bound_port) {
    out << "listening on " << bound_host << ":" << bound_port << std::endl;
  });
  return 0;
}

int pull_command(Home& home, std::vector<std::string> args, std::ostream& err, const TransportFactory& transports) {
  sync::TransferOptions options;
  options.max_attempts = static_cast<int>(cli::take_int_option(args, "--attempts", options.max_attempts));
  expect_args(args, 1, "outpost pull-from http://ADDR:PORT [--attempts N]");
  const PullReport report = pull_from(home, *transports(args[0]), options);
  err << "pulled " << report.materials << " materials (" << report.downloaded << " files fetched, "
      << sync::megabytes(report.bytes_moved) << " moved";
  if (report.resumed_bytes > 0) err << ", resumed from " << sync::megabytes(report.resumed_bytes);
  err << ") and " << report.forms << " forms, all verified\n";
  return 0;
}

int status_command(Home& home, std::ostream& out) {
  const sync::ReplicaStatus status = home.replica().status();
  Json json = {{"replica", home.replica().replica_id()},
               {"pending_changes", status.pending_changes},
               {"pending_records", status.pending_records},
               {"open_conflicts", status.open_conflicts},
               {"refused_changes", status.refused_changes},
               {"refused_files", AttachmentStore(home).refused_uploads().size()},
               {"last_sync", nullptr}};
  if (auto enrolled = home.enrollment())
    json["enrollment"] = {{"registry", enrolled->registry_url},
                          {"device", enrolled->device_id},
                          {"org", enrolled->org_id},
                          {"org_name", enrolled->org_name},
                          {"role", enrolled->role}};
  else
    json["enrollment"] = nullptr;
  if (status.last_sync_ms)
    json["last_sync"] = {{"at", iso_time(*status.last_sync_ms)}, {"result", status.last_sync_result.value_or("")}};
  out << json.dump() << "\n";
  return 0;
}

int run(std::vector<std::string> args, std::ostream& out, std::ostream& err, const TransportFactory& transports) {
  const std::string directory = take_option(args, "--home").value_or(Home::default_directory());
  if (args.empty() || args[0] == "--help" || args[0] == "help") {
    out << kUsage;
    return args.empty() ? 2 : 0;
  }
  const std::string command = args[0];
  args.erase(args.begin());
  Home home(directory);

  if (command == "enroll") {
    const std::string name = take_option(args, "--name").value_or(Home::default_device_name());
    expect_args(args, 2, "outpost enroll URL CODE [--name NAME]");
    auto transport = transports(args[0]);
    const Enrollment enrollment = home.enroll(args[0], args[1], name, *transport);
    out << "enrolled as " << enrollment.device_id << " (" << enrollment.role << ") in " << enrollment.org_name << " ("
        << enrollment.org_id << ")\n";
    return 0;
  }
  if (command == "record") return record_command(home, args, out);
  if (command == "forms") return forms_command(home, args, out);
  if (command == "bundle") return bundle_command(home, args, err);
  if (command == "share") return share_command(home, args, out);
  if (command == "pull-from") return pull_command(home, args, err, transports);
  if (command == "fill") return fill_command(home, args, out, err);
  if (command == "sync") {
    sync::SyncOptions options;
    options.max_attempts = static_cast<int>(cli::take_int_option(args, "--attempts", options.max_attempts));
    expect_args(args, 0, "outpost sync [--attempts N]");
    const HomeSyncReport report = home.sync(*registry_transport(home, transports), options);
    Library library(home);  // indexes the materials the sync brought
    const sync::SyncReport& records = report.records;
    err << "up to date: sent " << records.pushed_changes << " changes, received " << records.pulled_records
        << " records, " << records.conflicts_created << " new conflicts (" << records.requests << " requests, "
        << human_bytes(records.bytes_sent) << " up, " << human_bytes(records.bytes_received) << " down)";
    if (records.refused_changes > 0)
      err << "; the registry refused " << records.refused_changes
          << (records.refused_changes == 1 ? " change" : " changes") << ", kept aside (outpost refused)";
    const size_t files = report.attachments.sent();
    if (files > 0) {
      err << "; sent " << files << (files == 1 ? " file (" : " files (")
          << sync::megabytes(report.attachments.bytes_moved());
      if (report.attachments.resumed_bytes() > 0)
        err << ", resumed after " << sync::megabytes(report.attachments.resumed_bytes());
      err << ")";
    }
    if (const size_t refused = report.attachments.refused(); refused > 0)
      err << "; the registry refused " << refused << (refused == 1 ? " file" : " files")
          << ", kept on this device (outpost refused)";
    err << "\n";
    return 0;
  }
  if (command == "refused") {
    expect_args(args, 0, "outpost refused");
    for (const sync::RefusedWrite& write : home.replica().refused_writes())
      out << Json{{"collection", write.collection},
                  {"id", write.id},
                  {"error", write.error},
                  {"message", write.message},
                  {"written", iso_time(write.written_ms)},
                  {"refused", iso_time(write.refused_ms)}}
                 .dump()
          << "\n";
    for (const RefusedUpload& file : AttachmentStore(home).refused_uploads())
      out << Json{{"file", file.sha256}, {"message", file.reason}, {"refused", iso_time(file.refused_ms)}}.dump()
          << "\n";
    return 0;
  }
  if (command == "conflicts") {
    const bool all = take_flag(args, "--all");
    expect_args(args, 0, "outpost conflicts [--all]");
    for (const sync::Conflict& conflict : home.replica().conflicts(!all)) out << conflict_json(conflict).dump() << "\n";
    return 0;
  }
  if (command == "resolve") {
    auto value = take_option(args, "--value");
    if (!value) throw UsageError("usage: outpost resolve CONFLICT_ID --value JSON");
    expect_args(args, 1, "outpost resolve CONFLICT_ID --value JSON");
    home.replica().resolve(args[0], parse_value(*value, "--value"));
    return 0;
  }
  if (command == "status") {
    expect_args(args, 0, "outpost status");
    return status_command(home, out);
  }
  for (const char* library_command_name : {"materials", "pin", "unpin", "evict", "open", "storage"})
    if (command == library_command_name) return library_command(home, command, args, out, err, transports);
  throw UsageError("unknown command '" + command + "'\n" + kUsage);
}

}  // namespace

TransportFactory curl_transport_factory(sync::CurlTransport::Options options) {
  return [options = std::move(options)](const std::string& url) {
    static const auto make = reinterpret_cast<OutpostCurlTransport>(
        module_symbol("outpost-curl.so", OUTPOST_BUILD_CURL_MODULE, kOutpostCurlTransportSymbol));
    return std::unique_ptr<sync::Transport>(make(url, options));
  };
}

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
            const TransportFactory& transports) {
  return cli::run_guarded("outpost", err, [&] { return run(args, out, err, transports); });
}

}  // namespace outpost::client
