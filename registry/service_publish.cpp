// Registry::write_as_registry, kept apart from service.cpp: the registry's own catalogs
// (materials) are records it writes itself, stamped like any other write.
#include "registry/service.h"

namespace outpost::registry {

void Registry::write_as_registry(const std::string& collection, const std::string& id, const std::string& partition,
                                 const Json& fields) {
  if (!sync::is_valid_collection_name(collection) || collection[0] == '_')
    throw ApiError(400, "invalid_collection", "invalid collection name '" + collection + "'");
  if (id.empty() || id.size() > 128) throw ApiError(400, "invalid_id", "record ids are 1-128 characters");
  if (!fields.is_object() || fields.empty()) throw ApiError(400, "invalid_request", "nothing to write");
  for (const auto& [name, value] : fields.items())
    if (name == sync::kDeletedField ? !value.is_boolean() : !sync::is_valid_field_name(name))
      throw ApiError(400, "invalid_field", "field '" + name + "' cannot be written");

  std::lock_guard<std::mutex> lock(mutex_);
  StoreTransaction tx(store_);
  if (partition != kPublicPartition && !store_.find_org(partition))
    throw ApiError(404, "unknown_org", "no organization with id " + partition);
  StoredRecord record = store_.load_record(collection, id);
  if (record.partition && *record.partition != partition)
    throw ApiError(409, "partition_mismatch",
                   collection + "/" + id + " belongs to " + *record.partition + ", not " + partition);
  auto stored_clock = store_.meta("hlc");
  sync::HybridClock clock(clock_, stored_clock ? std::stoll(*stored_clock) : 0);
  const Stamp stamp{clock.tick(), sync::kRegistryReplica};
  const int64_t now = clock_.now_ms();
  for (const auto& [name, value] : fields.items()) record.fields[name] = StoredField{value.dump(), stamp, now};
  store_.write_record(collection, id, partition, record, store_.next_seq());
  store_.set_meta("hlc", std::to_string(clock.last()));
  tx.commit();
}

}  // namespace outpost::registry
