// Records the registry writes or reads as itself rather than on behalf of a device: published
// forms and materials, and submissions read back for export.
#include <string>
#include <utility>
#include <vector>

#include "form_records/form_records.h"
#include "registry/service.h"
#include "sync/stored_fields.h"

namespace outpost::registry {

using sync::Stamp;
using sync::StoredField;

void Registry::write_records_as_registry(const Principal& who, const std::string& partition,
                                         const std::vector<RecordWrite>& writes) {
  if (!who.registry_admin) throw ApiError(403, "forbidden", "only a registry administrator writes records as the registry");
  for (const RecordWrite& write : writes) {
    const std::string where = write.collection + "/" + write.id;
    if (!sync::is_valid_collection_name(write.collection) || write.collection[0] == '_' || write.id.empty() ||
        write.id.size() > 128)
      throw ApiError(400, "invalid_record", "cannot write " + where);
    if (!write.fields.is_object() || write.fields.empty()) throw ApiError(400, "invalid_fields", where + " has no fields");
    for (const auto& [name, value] : write.fields.items()) {
      if (name == sync::kDeletedField ? !value.is_boolean() : !sync::is_valid_field_name(name))
        throw ApiError(400, "invalid_field", where + ": field '" + name + "' cannot be written here");
    }
  }
  std::lock_guard<std::mutex> lock(mutex_);
  StoreTransaction tx(store_);
  if (partition != kPublicPartition && !store_.find_org(partition))
    throw ApiError(404, "unknown_org", "no organization " + partition);
  const auto stored_clock = store_.meta("hlc");
  sync::HybridClock clock(clock_, stored_clock ? std::stoll(*stored_clock) : 0);
  const int64_t now = clock_.now_ms();
  for (const RecordWrite& write : writes) {
    store_.insert_collection(write.collection);
    StoredRecord record = store_.load_record(write.collection, write.id);
    if (record.partition && *record.partition != partition)
      throw ApiError(409, "other_partition",
                     write.collection + "/" + write.id + " already belongs to " + *record.partition);
    const Stamp stamp{clock.tick(), sync::kRegistryReplica};
    for (const auto& [name, value] : write.fields.items()) record.fields[name] = StoredField{value.dump(), stamp, now};
    if (write.collection == form_records::kFormsCollection) {
      // Over the whole record as devices will hold it: its fields but the tombstone.
      Json whole = Json::object();
      for (const auto& [name, field] : record.fields)
        if (name != sync::kDeletedField) whole[name] = Json::parse(field.value);
      record.fields[form_records::kSignatureField] =
          StoredField{Json(sign(form_records::form_signing_text(write.id, whole))).dump(), stamp, now};
    }
    store_.write_record(write.collection, write.id, partition, record, store_.next_seq());
  }
  store_.set_meta("hlc", std::to_string(clock.last()));
  tx.commit();
}

std::vector<std::pair<std::string, Json>> Registry::records(const Principal& who, const std::string& collection) {
  if (!who.registry_admin) throw ApiError(403, "forbidden", "only a registry administrator reads every record");
  std::lock_guard<std::mutex> lock(mutex_);
  StoreTransaction tx(store_);
  std::vector<std::string> partitions{kPublicPartition};
  for (const Org& org : store_.list_orgs()) partitions.push_back(org.id);
  std::vector<std::pair<std::string, Json>> found;
  store_.changes_since(partitions, 0, "", [&](const ChangeRow& row) {
    if (row.collection != collection) return true;
    Json fields = Json::object();
    sync::for_each_stored_field(row.fields, [&](const std::string& name, const Json& value, const Stamp&, int64_t) {
      fields[name] = value;
    });
    if (fields.value(sync::kDeletedField, false) != true) found.emplace_back(row.id, std::move(fields));
    return true;
  });
  tx.commit();
  return found;
}

}  // namespace outpost::registry
