#include "registry/materials.h"

#include <algorithm>
#include <filesystem>
#include <stdexcept>
#include <tuple>

#include "platform/crypto.h"
#include "platform/files.h"

namespace outpost::registry {

using sync::MaterialInfo;

namespace {

const char* const kCatalogSchema = R"sql(
-- Every material this registry published. `published` is 0 while its record (or, once removed,
-- its tombstone) still has to be written to the registry's records.
CREATE TABLE IF NOT EXISTS materials(
  id TEXT PRIMARY KEY, partition TEXT NOT NULL, fields TEXT NOT NULL,
  removed INTEGER NOT NULL DEFAULT 0, published INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
)sql";

std::string holder_of(const std::string& id) { return "material:" + id; }

}  // namespace

Materials::Materials(Registry& registry, BlobService& blobs, const Clock& clock)
    : registry_(registry), blobs_(blobs), clock_(clock), catalog_(blobs.store().directory() + "/materials.db") {
  catalog_.exec(kCatalogSchema);
  sign_unsigned();
  publish_pending();
}

std::string Materials::signature_of(const std::string& id, const MaterialInfo& info) {
  const auto manifest = blobs_.store().manifest(info.sha256);
  if (!manifest) throw std::runtime_error("the file of material " + id + " (" + info.sha256 + ") is missing from the registry");
  return registry_.sign(sync::material_signing_text(id, info, *manifest));
}

void Materials::sign_unsigned() {
  std::vector<std::pair<std::string, MaterialInfo>> unsigned_materials;
  auto& select = catalog_.prepare("SELECT id, fields FROM materials WHERE removed=0");
  while (select.step()) {
    MaterialInfo info = MaterialInfo::from_fields(Json::parse(select.text(1)));
    if (info.signature.empty()) unsigned_materials.emplace_back(select.text(0), std::move(info));
  }
  for (auto& [id, info] : unsigned_materials) {
    info.signature = signature_of(id, info);
    catalog_.prepare("UPDATE materials SET fields=?, published=0 WHERE id=?").bind(1, info.to_fields().dump()).bind(2, id).run();
  }
}

void Materials::publish_pending() {
  struct Pending {
    std::string id, partition, fields;
    bool removed;
  };
  std::vector<Pending> pending;
  auto& select = catalog_.prepare("SELECT id, partition, fields, removed FROM materials WHERE published=0");
  while (select.step()) pending.push_back({select.text(0), select.text(1), select.text(2), select.int64(3) != 0});
  for (const Pending& material : pending) {
    if (material.removed) {
      registry_.write_records_as_registry(Registry::cli_admin(), material.partition,
                                          {{sync::kMaterialsCollection, material.id, {{sync::kDeletedField, true}}}});
      blobs_.release(holder_of(material.id));
    } else {
      const MaterialInfo info = MaterialInfo::from_fields(Json::parse(material.fields));
      blobs_.grant(info.sha256, material.partition, holder_of(material.id));
      registry_.write_records_as_registry(Registry::cli_admin(), material.partition,
                                          {{sync::kMaterialsCollection, material.id, info.to_fields()}});
    }
    catalog_.prepare("UPDATE materials SET published=1 WHERE id=?").bind(1, material.id).run();
  }
}

PublishedMaterial Materials::add(const MaterialSource& source) {
  if (!files::exists(source.file) || std::filesystem::is_directory(source.file))
    throw std::invalid_argument("no file " + source.file);
  if (source.partition != kPublicPartition) {
    const auto orgs = registry_.orgs(Registry::cli_admin());
    if (std::none_of(orgs.begin(), orgs.end(), [&](const Org& org) { return org.id == source.partition; }))
      throw std::invalid_argument("no organization with id " + source.partition + " (see `org list`)");
  }
  MaterialInfo info;
  info.file_name = std::filesystem::path(source.file).filename().string();
  info.media_type = sync::media_type_for(info.file_name);
  // A Markdown file may describe itself; the command line wins.
  std::optional<sync::FrontMatter> front;
  if (info.media_type == "text/markdown") front = sync::parse_front_matter(files::read_file(source.file));
  auto described = [&](const std::optional<std::string>& given, const char* key) {
    if (given) return *given;
    if (front && front->values.count(key)) return front->values.at(key);
    return std::string();
  };
  info.title = described(source.title, "title");
  info.summary = described(source.summary, "summary");
  info.lang = described(source.lang, "language");
  info.tags = !source.tags.empty() || !front ? source.tags : front->tags;
  if (info.title.empty()) throw std::invalid_argument("give the material a --title");
  if (info.lang.empty()) throw std::invalid_argument("give the material's language with --lang (en, fr, es, ...)");
  sync::check_material_text(info);

  const sync::BlobManifest manifest = blobs_.store().add_file(source.file);
  info.size = manifest.size;
  info.sha256 = manifest.sha256;
  info.chunk_size = manifest.chunk_size;
  info.created_ms = clock_.now_ms();

  PublishedMaterial material{"mat_" + crypto::random_hex(8), source.partition, info};
  material.info.signature = signature_of(material.id, material.info);
  catalog_.prepare("INSERT INTO materials(id, partition, fields) VALUES(?, ?, ?)")
      .bind(1, material.id)
      .bind(2, material.partition)
      .bind(3, material.info.to_fields().dump())
      .run();
  publish_pending();
  return material;
}

std::vector<PublishedMaterial> Materials::list() {
  std::vector<PublishedMaterial> materials;
  auto& select = catalog_.prepare("SELECT id, partition, fields FROM materials WHERE removed=0");
  while (select.step())
    materials.push_back({select.text(0), select.text(1), MaterialInfo::from_fields(Json::parse(select.text(2)))});
  std::sort(materials.begin(), materials.end(), [](const PublishedMaterial& a, const PublishedMaterial& b) {
    return std::tie(a.info.created_ms, a.id) < std::tie(b.info.created_ms, b.id);
  });
  return materials;
}

void Materials::remove(const std::string& id) {
  auto& select = catalog_.prepare("SELECT removed FROM materials WHERE id=?");
  select.bind(1, id);
  const bool known = select.step() && select.int64(0) == 0;
  select.reset();
  if (!known) throw std::invalid_argument("no material " + id + " (see `material list`)");
  catalog_.prepare("UPDATE materials SET removed=1, published=0 WHERE id=?").bind(1, id).run();
  publish_pending();
}

}  // namespace outpost::registry
