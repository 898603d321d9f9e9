#include "client/bundle.h"

#include <sys/stat.h>
#include <zip.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>

#include "client/library.h"
#include "form_records/form_records.h"
#include "platform/crypto.h"
#include "platform/files.h"

namespace outpost::client {

using sync::Json;

namespace {

constexpr char kBundleFormat[] = "outpost-bundle/1";
constexpr char kManifestEntry[] = "bundle.json";
constexpr char kFilesPrefix[] = "files/";
constexpr uint64_t kMaxManifestBytes = 64 * 1024 * 1024;

sync::Record live_record(Home& home, const char* collection, const std::string& id, const std::string& what) {
  auto record = home.replica().get(collection, id);
  if (!record || record->deleted) throw ClientError("no " + what + " " + id + " on this device");
  return *record;
}

// --- libzip, closed on every path

struct ZipCloser {
  void operator()(zip_t* archive) const { zip_discard(archive); }
};
using ZipArchive = std::unique_ptr<zip_t, ZipCloser>;

std::string zip_error_text(int code) {
  zip_error_t error;
  zip_error_init_with_code(&error, code);
  std::string text = zip_error_strerror(&error);
  zip_error_fini(&error);
  return text;
}

// --- Export

// Returns the entry's index.
zip_uint64_t add_entry(zip_t* archive, const std::string& name, zip_source_t* source, const std::string& path) {
  if (!source) throw ClientError("cannot write bundle " + path + ": " + zip_strerror(archive));
  const zip_int64_t index = zip_file_add(archive, name.c_str(), source, ZIP_FL_ENC_UTF_8);
  if (index < 0) {
    zip_source_free(source);
    throw ClientError("cannot write bundle " + path + ": " + zip_strerror(archive));
  }
  return static_cast<zip_uint64_t>(index);
}

}  // namespace

void export_bundle(Home& home, const std::vector<std::string>& material_ids, const std::vector<std::string>& form_ids,
                   const std::string& path) {
  if (material_ids.empty() && form_ids.empty()) throw ClientError("name at least one material or form to bundle");
  Library library(home);
  Json manifest = {{"format", kBundleFormat},
                   {"registry_key", home.registry_signing_key()},
                   {"created", SystemClock::instance().now_ms()},
                   {"records", Json::array()},
                   {"files", Json::array()}};
  std::map<std::string, std::string> files;  // entry name -> path on this device
  for (const std::string& id : material_ids) {
    const Material material = library.material(id);
    if (material.info.signature.empty())
      throw ClientError("material " + id + " (" + material.info.title +
                        ") carries no registry signature: sync with the registry, then bundle it");
    const std::string name = kFilesPrefix + material.info.sha256;
    if (!files.count(name)) {
      files[name] = library.local_path(id);  // ClientError when the file is not here
      manifest["files"].push_back({{"path", name}, {"sha256", material.info.sha256}, {"size", material.info.size}});
    }
    manifest["records"].push_back(sync::to_json(sync::as_pulled(live_record(home, sync::kMaterialsCollection, id, "material"))));
  }
  for (const std::string& id : form_ids)
    manifest["records"].push_back(sync::to_json(sync::as_pulled(live_record(home, form_records::kFormsCollection, id, "form"))));

  const std::string part = path + ".part";
  int code = 0;
  ZipArchive archive(zip_open(part.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code));
  if (!archive) throw ClientError("cannot write bundle " + path + ": " + zip_error_text(code));
  const std::string manifest_text = manifest.dump(1);
  add_entry(archive.get(), kManifestEntry, zip_source_buffer(archive.get(), manifest_text.data(), manifest_text.size(), 0),
            path);
  for (const auto& [name, file] : files) {
    const zip_uint64_t index = add_entry(archive.get(), name, zip_source_file(archive.get(), file.c_str(), 0, -1), path);
    // Already compressed, mostly (PDF, images, video): stored as they are.
    zip_set_file_compression(archive.get(), index, ZIP_CM_STORE, 0);
  }
  if (zip_close(archive.get()) != 0) {
    const std::string reason = zip_strerror(archive.get());
    std::filesystem::remove(part);
    throw ClientError("cannot write bundle " + path + ": " + reason);
  }
  archive.release();  // zip_close freed it
  std::filesystem::rename(part, path);
}

// --- Import

namespace {

// A directory removed with everything in it when the import ends, refused or not.
class StagingDirectory {
 public:
  explicit StagingDirectory(const std::string& home) : path_(home + "/bundle-staging-" + crypto::random_hex(6)) {
    files::ensure_directory(path_);
  }
  ~StagingDirectory() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  StagingDirectory(const StagingDirectory&) = delete;
  StagingDirectory& operator=(const StagingDirectory&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class BundleReader {
 public:
  explicit BundleReader(const std::string& path) : path_(path) {
    if (!files::exists(path)) throw refusal("there is no such file");
    int code = 0;
    archive_.reset(zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code));
    if (!archive_) throw refusal("it is truncated or not a bundle (" + zip_error_text(code) + ")");
  }

  ClientError refusal(const std::string& why) const {
    return ClientError("bundle " + path_ + " refused: " + why + "; nothing was imported");
  }

  // Every entry's name, checked: no absolute path, no "..", no links, nothing but the manifest
  // and files named by their hash.
  std::map<std::string, zip_uint64_t> entries() const {
    std::map<std::string, zip_uint64_t> names;
    const zip_int64_t count = zip_get_num_entries(archive_.get(), 0);
    for (zip_int64_t i = 0; i < count; ++i) {
      const auto index = static_cast<zip_uint64_t>(i);
      const char* raw = zip_get_name(archive_.get(), index, ZIP_FL_ENC_GUESS);
      if (!raw) throw refusal("entry " + std::to_string(i) + " has no readable name");
      const std::string name = raw;
      if (name.empty() || name[0] == '/' || name.find('\\') != std::string::npos || name.find(':') != std::string::npos ||
          name == ".." || name.rfind("../", 0) == 0 || name.find("/../") != std::string::npos ||
          (name.size() >= 3 && name.compare(name.size() - 3, 3, "/..") == 0))
        throw refusal("entry '" + name + "' has an unsafe path (absolute, or leaving the bundle with '..')");
      zip_uint8_t system = 0;
      zip_uint32_t attributes = 0;
      if (zip_file_get_external_attributes(archive_.get(), index, 0, &system, &attributes) == 0 &&
          system == ZIP_OPSYS_UNIX && S_ISLNK(attributes >> 16))
        throw refusal("entry '" + name + "' is a symbolic link");
      const bool is_file = name.rfind(kFilesPrefix, 0) == 0 && sync::is_sha256_hex(name.substr(sizeof(kFilesPrefix) - 1));
      if (name != kManifestEntry && !is_file)
        throw refusal("entry '" + name + "' is not part of a bundle (only bundle.json and files/SHA256)");
      if (!names.emplace(name, index).second) throw refusal("entry '" + name + "' appears twice");
    }
    return names;
  }

  // Reads an entry, into memory or a file; libzip checks its CRC at the end.
  void read(zip_uint64_t index, const std::string& name, const std::function<void(const char*, size_t)>& sink) const {
    std::unique_ptr<zip_file_t, int (*)(zip_file_t*)> file(zip_fopen_index(archive_.get(), index, 0), zip_fclose);
    if (!file) throw refusal("entry '" + name + "' cannot be read (" + zip_strerror(archive_.get()) + ")");
    std::vector<char> buffer(64 * 1024);
    for (;;) {
      const zip_int64_t got = zip_fread(file.get(), buffer.data(), buffer.size());
      if (got < 0) throw refusal("entry '" + name + "' is damaged (" + zip_file_strerror(file.get()) + ")");
      if (got == 0) return;
      sink(buffer.data(), static_cast<size_t>(got));
    }
  }

 private:
  std::string path_;
  ZipArchive archive_;
};

}  // namespace

BundleImport import_bundle(Home& home, const std::string& path) {
  const std::string registry_key = home.registry_signing_key();
  BundleReader bundle(path);
  const auto entries = bundle.entries();
  if (!entries.count(kManifestEntry)) throw bundle.refusal("it has no bundle.json");

  std::string manifest_text;
  bundle.read(entries.at(kManifestEntry), kManifestEntry, [&](const char* data, size_t size) {
    if (manifest_text.size() + size > kMaxManifestBytes) throw bundle.refusal("bundle.json is too large");
    manifest_text.append(data, size);
  });
  const Json manifest = Json::parse(manifest_text, nullptr, false);
  if (!manifest.is_object() || manifest.value("format", "") != kBundleFormat || !manifest.contains("records") ||
      !manifest["records"].is_array())
    throw bundle.refusal(std::string("bundle.json is not an ") + kBundleFormat + " manifest");
  if (manifest.value("registry_key", "") != registry_key)
    throw bundle.refusal("it was made on a device of another registry (its signing key is not this device's)");

  std::vector<sync::PulledRecord> records;
  BundleImport report;
  for (size_t i = 0; i < manifest["records"].size(); ++i) {
    try {
      records.push_back(sync::pulled_record_from_json(manifest["records"][i], "records[" + std::to_string(i) + "]"));
    } catch (const std::invalid_argument& error) {
      throw bundle.refusal(std::string("bundle.json: ") + error.what());
    }
    const std::string& collection = records.back().collection;
    if (collection != sync::kMaterialsCollection && collection != form_records::kFormsCollection)
      throw bundle.refusal("bundle.json carries a record of '" + collection + "'; bundles hold materials and forms only");
    if (collection == form_records::kFormsCollection) {
      try {
        form_records::verify_form(records.back().id, records.back().values(), registry_key);
      } catch (const form_records::RecordError& refused) {
        throw bundle.refusal(refused.what());
      }
    }
    ++(collection == sync::kMaterialsCollection ? report.materials : report.forms);
  }

  // Every file staged, hashed and checked against the signed records before anything is stored.
  StagingDirectory staging(home.directory());
  std::map<std::string, std::string> staged;  // sha256 -> staged path
  for (const auto& [name, index] : entries) {
    if (name == kManifestEntry) continue;
    const std::string sha256 = name.substr(sizeof(kFilesPrefix) - 1);
    const std::string target = staging.path() + "/" + sha256;
    std::ofstream out(target, std::ios::binary);
    bundle.read(index, name, [&](const char* data, size_t size) { out.write(data, static_cast<std::streamsize>(size)); });
    out.close();
    if (!out) throw ClientError("cannot stage bundle " + path + " in " + staging.path() + ": disk full?");
    staged[sha256] = target;
  }
  std::vector<ReceivedFile> verified;
  std::set<std::string> used;
  for (const sync::PulledRecord& record : records) {
    if (record.collection != sync::kMaterialsCollection) continue;
    sync::MaterialInfo info;
    try {
      info = sync::MaterialInfo::from_fields(record.values());
    } catch (const std::invalid_argument& error) {
      throw bundle.refusal("material " + record.id + ": " + error.what());
    }
    auto file = staged.find(info.sha256);
    if (file == staged.end()) throw bundle.refusal("the file of material " + record.id + " (" + info.title + ") is missing");
    try {
      const sync::BlobManifest held = sync::BlobManifest::of_file(file->second, info.chunk_size);
      if (held.sha256 != file->first)
        throw sync::BlobError("entry files/" + file->first + " holds other content (sha256 " + held.sha256 + ")");
      sync::verify_material(record.id, info, held, registry_key);
    } catch (const sync::BlobError& error) {
      throw bundle.refusal(error.what());
    }
    if (used.insert(info.sha256).second) {
      verified.push_back({file->second, info.chunk_size});
      report.file_bytes += info.size;
    }
  }
  if (used.size() != staged.size()) throw bundle.refusal("it holds files no material of it describes");

  Library(home).receive(records, verified);
  return report;
}

}  // namespace outpost::client
