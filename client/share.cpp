#include "client/share.h"

#include <mutex>

#include "client/library.h"
#include "form_records/form_records.h"
#include "registry/api.h"
#include "registry/blobs.h"
#include "registry/server.h"

namespace outpost::client {

using sync::Json;

namespace {

constexpr char kShareFormat[] = "outpost-share/1";
constexpr char kCatalogPath[] = "/v1/share/catalog";

// --- Serving

class ShareService {
 public:
  explicit ShareService(Home& home) : home_(home), library_(home) {}

  registry::ApiResponse handle(const registry::ApiRequest& request) {
    try {
      if (request.method != "GET" && request.method != "HEAD")
        throw registry::ApiError(405, "read_only", "a shared library is read-only: only GET is answered");
      // One request at a time reaches the library's database.
      std::lock_guard<std::mutex> lock(mutex_);
      return route(request);
    } catch (const registry::ApiError& error) {
      return registry::error_response(error.status(), error.code(), error.what(), error.extra());
    } catch (const std::exception& error) {
      return registry::error_response(500, "internal", error.what());
    }
  }

 private:
  registry::ApiResponse route(const registry::ApiRequest& request) {
    if (request.path == kCatalogPath) return registry::json_response(request, catalog());
    const std::string prefix = "/v1/blobs/";
    if (request.path.rfind(prefix, 0) == 0) {
      std::string sha256 = request.path.substr(prefix.size());
      const bool manifest = sha256.size() > 9 && sha256.compare(sha256.size() - 9, 9, "/manifest") == 0;
      if (manifest) sha256.resize(sha256.size() - 9);
      if (!sync::is_sha256_hex(sha256) || !library_.files().contains(sha256))
        throw registry::ApiError(404, "not_found", "this device does not share a file " + sha256);
      if (manifest) return registry::json_response(request, library_.files().manifest(sha256)->to_json());
      return registry::file_response(request, library_.files(), sha256);
    }
    throw registry::ApiError(404, "not_found", "no such endpoint: " + request.path);
  }

  // The materials whose files are here (a device can only vouch for what it can serve), and the forms.
  Json catalog() {
    library_.refresh();
    Json records = Json::array();
    for (const Material& material : library_.catalog())
      if (material.state == DownloadState::Downloaded && !material.info.signature.empty())
        records.push_back(sync::to_json(sync::as_pulled(*home_.replica().get(sync::kMaterialsCollection, material.id))));
    for (const sync::Record& form : home_.replica().list(form_records::kFormsCollection))
      records.push_back(sync::to_json(sync::as_pulled(form)));
    return {{"format", kShareFormat}, {"registry_key", home_.registry_signing_key()}, {"records", records}};
  }

  Home& home_;
  Library library_;
  std::mutex mutex_;
};

// --- Pulling

Json fetch_catalog(sync::Transport& peer) {
  sync::HttpRequest request;
  request.method = "GET";
  request.path = kCatalogPath;
  sync::HttpResponse response;
  try {
    response = peer.send(request);
  } catch (const sync::TransportError& error) {
    throw ClientError(std::string("cannot reach the sharing device: ") + error.what());
  }
  if (response.status != 200)
    throw ClientError("the sharing device answered: " + sync::describe_error_response(response));
  Json catalog = Json::parse(response.body, nullptr, false);
  if (!catalog.is_object() || catalog.value("format", "") != kShareFormat || !catalog.contains("records") ||
      !catalog["records"].is_array())
    throw ClientError("the answer did not come from an Outpost device sharing its library");
  return catalog;
}

}  // namespace

void serve_share(Home& home, const std::string& host, int port,
                 const std::function<void(const std::string&, int)>& on_listening) {
  home.registry_signing_key();  // a device that cannot vouch for its materials does not share them
  ShareService service(home);
  registry::serve([&service](const registry::ApiRequest& request) { return service.handle(request); }, host, port,
                  on_listening);
}

PullReport pull_from(Home& home, sync::Transport& peer, const sync::TransferOptions& options) {
  const std::string registry_key = home.registry_signing_key();
  const Json catalog = fetch_catalog(peer);
  if (catalog.value("registry_key", "") != registry_key)
    throw ClientError("the sharing device belongs to another registry (its signing key is not this device's)");

  Library library(home);
  PullReport report;
  std::vector<sync::PulledRecord> records;
  for (size_t i = 0; i < catalog["records"].size(); ++i) {
    sync::PulledRecord record;
    sync::MaterialInfo info;
    try {
      record = sync::pulled_record_from_json(catalog["records"][i], "records[" + std::to_string(i) + "]");
      if (record.collection == sync::kMaterialsCollection) info = sync::MaterialInfo::from_fields(record.values());
    } catch (const std::invalid_argument& error) {
      throw ClientError(std::string("the sharing device's catalog is not valid: ") + error.what());
    }
    if (record.collection == form_records::kFormsCollection) {
      try {
        form_records::verify_form(record.id, record.values(), registry_key);
      } catch (const form_records::RecordError& refused) {
        throw ClientError(std::string("the sharing device offered a form the registry did not sign: ") + refused.what());
      }
      ++report.forms;
      records.push_back(std::move(record));
      continue;
    }
    if (record.collection != sync::kMaterialsCollection)
      throw ClientError("the sharing device offered a record of '" + record.collection + "'; only materials and forms are shared");
    sync::TransferOptions checked = options;
    checked.accept_manifest = [&](const sync::BlobManifest& manifest) {
      sync::verify_material(record.id, info, manifest, registry_key);
    };
    if (auto held = library.files().manifest(info.sha256)) {
      checked.accept_manifest(*held);
    } else {
      sync::BlobTransfer transfer(library.files(), peer, "", checked);
      const sync::TransferReport transferred = transfer.download(info.sha256);
      ++report.downloaded;
      report.bytes_moved += transferred.bytes_moved;
      report.resumed_bytes += transferred.resumed_bytes;
    }
    ++report.materials;
    records.push_back(std::move(record));
  }
  library.receive(records, {});
  return report;
}

}  // namespace outpost::client
