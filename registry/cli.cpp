#include "registry/cli.h"

#include <iostream>
#include <optional>

#include "platform/cli_args.h"
#include "platform/sqlite.h"
#include "registry/api.h"
#include "registry/blobs.h"
#include "registry/materials.h"
#include "registry/forms_cli.h"
#include "registry/server.h"
#include "registry/sqlite_store.h"

namespace outpost::registry {

using cli::expect_args;
using cli::take_option;
using cli::UsageError;

namespace {

constexpr char kUsage[] = R"(usage: outpost-registry [--db FILE] COMMAND ...

  serve [--listen HOST:PORT] [--blob-quota-mb N]
                                    serve the HTTP API (default 127.0.0.1:8440; port 0 picks one);
                                    uploads stop once the files take N MB
  org add NAME                      create an organization; prints its id
  org list                          list organizations
  invite ORG_ID [--role field|admin] [--days N]
                                    create a one-time enrollment code for a device
  device list                       list enrolled devices
  device revoke DEVICE_ID           stop a device from syncing
  collection add NAME               accept records in a new collection
  collection list                   list collections
  admin-token [NAME]                create a registry admin token for the HTTP API
  material add FILE [--title T] [--lang L] [--tag T]... [--summary S] [--org ORG_ID | --public]
                                    publish a file to one organization or (default) to everyone;
                                    a Markdown file's front matter fills in what is not given;
                                    prints the material's id
  material list                     published materials, one JSON object a line
  material remove ID                withdraw a material from every device
  form publish FILE.xlsx|DIR (--org ORG_ID | --public)
                                    check an XLSForm and publish it to an organization's devices or all
  export FORM_ID --format csv|hxl [--out DIR]
                                    write the form's finalized submissions as CSV files (one per repeat)
                                    and their files in DIR/media/SUBMISSION_ID/ (missing ones listed)

--db FILE defaults to $OUTPOST_REGISTRY_DB, or registry.db in the current directory. Files are
kept beside it, in FILE.blobs/.
)";

int material_command(Registry& registry, const std::string& blob_directory, std::vector<std::string> args,
                     std::ostream& out) {
  const std::string usage = "usage: outpost-registry material add FILE [--title T] [--lang L] [--tag T]... "
                            "[--summary S] [--org ORG_ID | --public] | material list | material remove ID";
  if (args.empty()) throw UsageError(usage);
  const std::string action = args[0];
  args.erase(args.begin());
  BlobService blobs(blob_directory);
  Materials materials(registry, blobs);
  if (action == "add") {
    MaterialSource source;
    source.title = take_option(args, "--title");
    source.summary = take_option(args, "--summary");
    source.lang = take_option(args, "--lang");
    while (auto tag = take_option(args, "--tag")) source.tags.push_back(*tag);
    const auto org = take_option(args, "--org");
    const bool everyone = cli::take_flag(args, "--public");
    if (org && everyone) throw UsageError("give either --org ORG_ID or --public, not both");
    if (org) source.partition = *org;
    expect_args(args, 1, usage);
    source.file = args[0];
    out << materials.add(source).id << "\n";
    return 0;
  }
  if (action == "list") {
    expect_args(args, 0, "outpost-registry material list");
    for (const PublishedMaterial& material : materials.list()) {
      Json line = {{"id", material.id}, {"partition", material.partition}};
      line.update(material.info.to_fields());
      out << line.dump() << "\n";
    }
    return 0;
  }
  if (action == "remove") {
    expect_args(args, 1, "outpost-registry material remove ID");
    materials.remove(args[0]);
    return 0;
  }
  throw UsageError("unknown material action '" + action + "': use add, list or remove");
}

int run(std::vector<std::string> args, std::ostream& out, std::ostream& err) {
  std::string db_path = "registry.db";
  if (const char* env = std::getenv("OUTPOST_REGISTRY_DB")) db_path = env;
  if (auto db = take_option(args, "--db")) db_path = *db;
  if (args.empty() || args[0] == "--help" || args[0] == "help") {
    out << kUsage;
    return args.empty() ? 2 : 0;
  }
  const std::string command = args[0];
  args.erase(args.begin());

  SqliteStore store(db_path);
  Registry registry(store);
  const Principal admin = Registry::cli_admin();

  const std::string blob_directory = db_path + ".blobs";
  if (command == "serve") {
    auto [host, port] = parse_listen(take_option(args, "--listen").value_or("127.0.0.1:8440"));
    const int64_t quota_mb = cli::take_int_option(args, "--blob-quota-mb", 0);
    if (quota_mb < 0) throw UsageError("--blob-quota-mb wants a number of megabytes, 0 for no quota");
    expect_args(args, 0, "outpost-registry serve [--db FILE] [--listen HOST:PORT] [--blob-quota-mb N]");
    BlobService blobs(blob_directory, static_cast<uint64_t>(quota_mb) * 1000 * 1000, SystemClock::instance(),
                      [&registry](const Device& device, const std::string& sha256) {
                        return registry.file_referenced(device.org_id, sha256);
                      });
    Api api(registry, &blobs);
    const auto handle = [&api](const ApiRequest& request) { return api.handle(request); };
    serve(handle, host, port, [&out](const std::string& bound_host, int bound_port) {
      out << "listening on " << bound_host << ":" << bound_port << std::endl;
    });
    return 0;
  }
  if (command == "org") {
    if (!args.empty() && args[0] == "add") {
      expect_args(args, 2, "outpost-registry org add NAME");
      out << registry.add_org(args[1]).id << "\n";
      return 0;
    }
    if (!args.empty() && args[0] == "list") {
      for (const Org& org : registry.orgs(admin)) out << org.id << "\t" << org.name << "\n";
      return 0;
    }
    throw UsageError("usage: outpost-registry org add NAME | org list");
  }
  if (command == "invite") {
    const std::string role_text = take_option(args, "--role").value_or("field");
    const int64_t days = cli::take_int_option(args, "--days", 14);
    expect_args(args, 1, "outpost-registry invite ORG_ID [--role field|admin] [--days N]");
    auto role = role_from_name(role_text);
    if (!role) throw UsageError("--role must be field or admin");
    out << registry.invite(admin, args[0], *role, days) << "\n";
    return 0;
  }
  if (command == "device") {
    if (!args.empty() && args[0] == "list") {
      for (const Device& device : registry.devices(admin))
        out << device.id << "\t" << device.org_id << "\t" << role_name(device.role) << "\t"
            << (device.revoked ? "revoked" : "active") << "\t" << device.name << "\n";
      return 0;
    }
    if (args.size() == 2 && args[0] == "revoke") {
      registry.revoke(admin, args[1]);
      return 0;
    }
    throw UsageError("usage: outpost-registry device list | device revoke DEVICE_ID");
  }
  if (command == "collection") {
    if (args.size() == 2 && args[0] == "add") {
      registry.add_collection(args[1]);
      return 0;
    }
    if (!args.empty() && args[0] == "list") {
      for (const std::string& name : registry.collections()) out << name << "\n";
      return 0;
    }
    throw UsageError("usage: outpost-registry collection add NAME | collection list");
  }
  if (command == "material") return material_command(registry, blob_directory, args, out);
  if (command == "form") return form_command(registry, args, out);
  if (command == "export") return export_command(registry, blob_directory, args, out, err);
  if (command == "admin-token") {
    out << registry.create_admin_token(args.empty() ? "admin" : args[0]) << "\n";
    return 0;
  }
  throw UsageError("unknown command '" + command + "'\n" + kUsage);
}

}  // namespace

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  return cli::run_guarded("outpost-registry", err, [&] { return run(args, out, err); });
}

}  // namespace outpost::registry
