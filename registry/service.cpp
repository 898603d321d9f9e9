#include "registry/service.h"

#include <algorithm>
#include <set>
#include <unordered_map>

#include "form_records/form_records.h"
#include "platform/crypto.h"

namespace outpost::registry {

using sync::ClampedStamp;
using sync::FieldChange;
using sync::kConflictsCollection;
using sync::kDeletedField;
using sync::kRegistryReplica;
using sync::kResolutionField;
using sync::PulledField;
using sync::PulledRecord;
using sync::RecordChange;
using sync::SyncRequest;
using sync::SyncResponse;

namespace {

constexpr int64_t kDayMs = 24 * 60 * 60 * 1000;

// The hashes of the files an `attachments` field names; none when it is malformed (the device
// then has no file to upload for it).
std::vector<std::string> named_files(const sync::StoredField& attachments) {
  std::vector<std::string> hashes;
  try {
    for (const auto& [name, attachment] : form_records::attachments_from_json(Json::parse(attachments.value)))
      hashes.push_back(attachment.sha256);
  } catch (const std::exception&) {  // RecordError, or JSON that does not parse
  }
  return hashes;
}
constexpr size_t kSoftResponseBytes = 8 * 1024 * 1024;
const std::vector<std::string> kDefaultCollections = {"activities", "assessments", "contacts", "forms",
                                                      "incidents",  "notes",       "sites",    "submissions"};

std::string hash_secret(const std::string& secret) { return crypto::sha256_hex(secret); }

}  // namespace

std::string role_name(Role role) { return role == Role::OrgAdmin ? "admin" : "field"; }

std::optional<Role> role_from_name(const std::string& name) {
  if (name == "admin") return Role::OrgAdmin;
  if (name == "field") return Role::Field;
  return std::nullopt;
}

bool Principal::is_org_admin_of(const std::string& org_id) const {
  return registry_admin || (device && device->role == Role::OrgAdmin && device->org_id == org_id);
}

Registry::Registry(RegistryStore& store, const Clock& clock) : store_(store), clock_(clock) {
  std::lock_guard<std::mutex> lock(mutex_);
  StoreTransaction tx(store_);
  if (!store_.meta("initialized")) {
    for (const std::string& name : kDefaultCollections) store_.insert_collection(name);
    store_.set_meta("initialized", std::to_string(clock_.now_ms()));
  }
  // Registries set up before signatures get their key on the first open after the upgrade.
  if (!store_.meta("signing_secret_key")) {
    const crypto::SigningKeyPair pair = crypto::generate_signing_key();
    store_.set_meta("signing_public_key", pair.public_hex);
    store_.set_meta("signing_secret_key", pair.secret_hex);
  }
  signing_key_ = {*store_.meta("signing_public_key"), *store_.meta("signing_secret_key")};
  tx.commit();
}

std::string Registry::sign(std::string_view message) const { return crypto::sign_hex(message, signing_key_.secret_hex); }

// --- Administration

Org Registry::add_org(const std::string& name) {
  if (name.empty() || name.size() > 200) throw ApiError(400, "invalid_name", "organization name must be 1-200 characters");
  std::lock_guard<std::mutex> lock(mutex_);
  StoreTransaction tx(store_);
  if (store_.find_org_by_name(name)) throw ApiError(409, "exists", "an organization named '" + name + "' already exists");
  Org org{"org_" + crypto::random_hex(6), name, clock_.now_ms()};
  store_.insert_org(org);
  tx.commit();
  return org;
}

std::vector<Org> Registry::orgs(const Principal& who) {
  std::lock_guard<std::mutex> lock(mutex_);
  StoreTransaction tx(store_);
  std::vector<Org> all = store_.list_orgs();
  if (!who.registry_admin)
    all.erase(std::remove_if(all.begin(), all.end(),
                             [&](const Org& org) { return !who.device || org.id != who.device->org_id; }),
              all.end());
  return all;
}

std::string Registry::invite(const Principal& who, const std::string& org_id, Role role, int64_t valid_days) {
  if (valid_days < 1 || valid_days > 365) throw ApiError(400, "invalid_days", "an invite is valid for 1 to 365 days");
  std::lock_guard<std::mutex> lock(mutex_);
  StoreTransaction tx(store_);
  if (!store_.find_org(org_id)) {
    // To an org admin of another organization this looks the same as a missing one.
    if (who.registry_admin) throw ApiError(404, "unknown_org", "no organization with id " + org_id);
    throw ApiError(403, "forbidden", "you can invite devices to your own organization only");
  }
  if (!who.is_org_admin_of(org_id))
    throw ApiError(403, "forbidden", "only an admin of organization " + org_id + " can invite devices to it");
  const std::string code = crypto::human_code(4);
  const int64_t now = clock_.now_ms();
  store_.insert_invite({hash_secret(crypto::normalize_human_code(code)), org_id, role, now, now + valid_days * kDayMs,
                        std::nullopt, std::nullopt});
  tx.commit();
  return code;
}

std::string Registry::create_admin_token(const std::string& name) {
  std::lock_guard<std::mutex> lock(mutex_);
  StoreTransaction tx(store_);
  const std::string token = "opa_" + crypto::random_hex(32);
  store_.insert_admin_token(hash_secret(token), name, clock_.now_ms());
  tx.commit();
  return token;
}

std::vector<Device> Registry::devices(const Principal& who) {
  std::lock_guard<std::mutex> lock(mutex_);
  StoreTransaction tx(store_);
  if (who.registry_admin) return store_.list_devices(std::nullopt);
  if (who.device && who.device->role == Role::OrgAdmin) return store_.list_devices(who.device->org_id);
  throw ApiError(403, "forbidden", "only organization admins can list devices");
}

void Registry::revoke(const Principal& who, const std::string& device_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  StoreTransaction tx(store_);
  auto device = store_.find_device(device_id);
  if (!device || !who.is_org_admin_of(device->org_id)) {
    if (who.registry_admin) throw ApiError(404, "unknown_device", "no device with id " + device_id);
    throw ApiError(403, "forbidden", "you can revoke devices of your own organization only");
  }
  store_.revoke_device(device_id);
  tx.commit();
}

void Registry::add_collection(const std::string& name) {
  if (!sync::is_valid_collection_name(name) || name[0] == '_')
    throw ApiError(400, "invalid_collection",
                   "invalid collection name '" + name + "': use 1-64 lower-case letters, digits and '_'");
  std::lock_guard<std::mutex> lock(mutex_);
  StoreTransaction tx(store_);
  store_.insert_collection(name);
  tx.commit();
}

std::vector<std::string> Registry::collections() {
  std::lock_guard<std::mutex> lock(mutex_);
  StoreTransaction tx(store_);
  return store_.list_collections();
}

// --- Authentication and enrollment

Principal Registry::authenticate(const std::string& bearer_token) {
  if (bearer_token.empty())
    throw ApiError(401, "unauthorized", "missing credentials: send the device token as 'Authorization: Bearer TOKEN'");
  const std::string hash = hash_secret(bearer_token);
  std::lock_guard<std::mutex> lock(mutex_);
  StoreTransaction tx(store_);
  if (auto device = store_.find_device_by_token(hash)) {
    if (device->revoked) throw ApiError(401, "revoked", "this device was revoked by its organization's admin");
    return Principal{device, false};
  }
  if (store_.admin_token_exists(hash)) return Principal{std::nullopt, true};
  throw ApiError(401, "unauthorized", "unknown token: enroll this device again");
}

Enrollment Registry::enroll(const std::string& typed_code, const std::string& replica, const std::string& device_name) {
  if (replica.size() < 16 || replica.size() > 64 || replica == kRegistryReplica)
    throw ApiError(400, "invalid_replica", "replica id must be 16-64 characters");
  if (device_name.empty() || device_name.size() > 200)
    throw ApiError(400, "invalid_name", "device name must be 1-200 characters");
  const std::string code_hash = hash_secret(crypto::normalize_human_code(typed_code));
  std::lock_guard<std::mutex> lock(mutex_);
  StoreTransaction tx(store_);
  auto invite = store_.find_invite(code_hash);
  if (!invite) throw ApiError(404, "unknown_code", "this enrollment code is not known to the registry: check it");
  const std::string token = "opd_" + crypto::random_hex(32);
  Device device;
  if (invite->used_by_replica) {
    // The same device asking again (its first answer was lost on the way): give it a fresh
    // token; the lost one was never seen by anybody.
    if (*invite->used_by_replica != replica)
      throw ApiError(410, "code_used", "this enrollment code was already used by another device: ask for a new one");
    device = *store_.find_device(*invite->device_id);
    store_.set_device_token(device.id, hash_secret(token));
  } else {
    if (invite->expires_ms < clock_.now_ms())
      throw ApiError(410, "code_expired", "this enrollment code has expired: ask your admin for a new one");
    if (auto existing = store_.find_device_by_replica(replica))
      throw ApiError(409, "already_enrolled",
                     "this device is already enrolled as " + existing->id + "; it cannot join a second time");
    device.id = "dev_" + crypto::random_hex(8);
    device.org_id = invite->org_id;
    device.replica = replica;
    device.name = device_name;
    device.role = invite->role;
    device.created_ms = clock_.now_ms();
    store_.insert_device(device, hash_secret(token));
    store_.mark_invite_used(code_hash, replica, device.id);
  }
  Enrollment enrollment{device, token, *store_.find_org(device.org_id), store_.list_collections()};
  tx.commit();
  return enrollment;
}

Device Registry::require_device(const Principal& who) {
  if (!who.device) throw ApiError(403, "forbidden", "only enrolled devices hold records; use a device token");
  return *who.device;
}

Json Registry::read_record(const Principal& who, const std::string& collection, const std::string& id) {
  const Device device = require_device(who);
  std::lock_guard<std::mutex> lock(mutex_);
  StoreTransaction tx(store_);
  auto partition = store_.record_partition(collection, id);
  // Another organization's record answers exactly like a missing one.
  if (!partition || (*partition != device.org_id && *partition != kPublicPartition))
    throw ApiError(404, "not_found", "no record " + collection + "/" + id);
  Json fields = Json::object();
  for (const auto& [name, data] : store_.load_record(collection, id).fields)
    fields[name] = {{"v", Json::parse(data.value)}, {"s", sync::stamp_to_json(data.stamp)}, {"t", data.wall_ms}};
  return {{"c", collection}, {"id", id}, {"f", std::move(fields)}};
}

// --- Sync: the merge of one request's changes

// Holds what one request needs while it is applied: the registry clock, sequence numbers,
// receipts and the conflicts found.
class Registry::Merge {
 public:
  Merge(RegistryStore& store, const Clock& clock, const Device& device, const SyncRequest& request,
        SyncResponse& response)
      : store_(store), clock_(clock, load_clock(store)), device_(device), request_(request), response_(response),
        cap_(sync::hlc_from_millis(clock.now_ms() + sync::kMaxClockLeadMs)) {}

  // The record as the registry holds it, loaded once per request and kept current as the
  // request's changes apply.
  StoredRecord& record(const RecordChange& change);
  void apply(const RecordChange& change);
  void finish();

 private:
  static int64_t load_clock(RegistryStore& store) {
    auto stored = store.meta("hlc");
    return stored ? std::stoll(*stored) : 0;
  }
  struct Side {
    std::string value;
    Stamp stamp;
    int64_t wall_ms;
  };
  // Sets a field of a record loaded by record(); the record is stored by finish().
  void write(const RecordChange& change, StoredFields& fields, const std::string& field,
             StoredField data);
  void record_conflict(const std::string& collection, const std::string& id, const std::string& field,
                       const Side& kept, const Side& lost);
  std::string author(const std::string& replica);
  // Whether this write of the device was applied by an earlier request (a replay); answers
  // again with the stamp it was clamped to, if it was.
  bool already_applied(const RecordChange& change, const std::string& field, int64_t hlc);
  int64_t clamp(int64_t hlc);

  RegistryStore& store_;
  sync::HybridClock clock_;
  const Device& device_;
  const SyncRequest& request_;
  SyncResponse& response_;
  const int64_t cap_;
  int64_t change_seq_ = 0;
  std::map<int64_t, int64_t> clamped_;  // device hlc -> registry hlc, for this request
  using WriteKey = std::tuple<std::string, std::string, int64_t>;  // collection, id, device hlc
  std::map<WriteKey, int64_t> clamped_writes_;  // clamped in this request -> registry hlc
  std::map<std::pair<std::string, std::string>, StoredRecord> records_;
  // Records to store, with their new change number (0: only their applied marks moved).
  std::map<std::pair<std::string, std::string>, int64_t> changed_;
  std::unordered_map<std::string, std::string> authors_;
};

int64_t Registry::Merge::clamp(int64_t hlc) {
  if (hlc <= cap_) return hlc;
  auto it = clamped_.find(hlc);
  if (it == clamped_.end()) it = clamped_.emplace(hlc, clock_.tick()).first;
  return it->second;
}

StoredRecord& Registry::Merge::record(const RecordChange& change) {
  const auto key = std::make_pair(change.collection, change.id);
  auto it = records_.find(key);
  if (it == records_.end()) it = records_.emplace(key, store_.load_record(change.collection, change.id)).first;
  return it->second;
}

bool Registry::Merge::already_applied(const RecordChange& change, const std::string& field, int64_t hlc) {
  const StoredRecord& stored = record(change);
  auto mark = stored.applied.find(device_.replica);
  if (mark == stored.applied.end() || hlc > mark->second) return false;
  auto clamped = clamped_.find(hlc);
  if (clamped == clamped_.end())
    if (auto receipt = store_.find_receipt(device_.id, change.collection, change.id, hlc); receipt && receipt->clamped_to)
      clamped = clamped_.emplace(hlc, *receipt->clamped_to).first;
  if (clamped != clamped_.end()) response_.clamped.push_back({change.collection, change.id, field, hlc, clamped->second});
  return true;
}

std::string Registry::Merge::author(const std::string& replica) {
  auto it = authors_.find(replica);
  if (it != authors_.end()) return it->second;
  std::string name = replica;
  if (replica == kRegistryReplica) {
    name = "registry";
  } else if (auto device = store_.find_device_by_replica(replica)) {
    name = device->name + " (" + device->id + ")";
  }
  return authors_.emplace(replica, name).first->second;
}

void Registry::Merge::write(const RecordChange& change, StoredFields& fields,
                            const std::string& field, StoredField data) {
  if (change_seq_ == 0) change_seq_ = store_.next_seq();
  fields[field] = std::move(data);
  changed_[{change.collection, change.id}] = change_seq_;
}

void Registry::Merge::record_conflict(const std::string& collection, const std::string& id, const std::string& field,
                                      const Side& kept, const Side& lost) {
  const std::string conflict_id =
      crypto::sha256_hex(collection + '\0' + id + '\0' + field + '\0' + std::to_string(lost.stamp.hlc) + '\0' +
                         lost.stamp.replica)
          .substr(0, 32);
  if (store_.record_partition(kConflictsCollection, conflict_id)) return;  // already recorded
  auto side = [&](const Side& s) {
    return Json{{"value", Json::parse(s.value)},
                {"stamp", sync::stamp_to_json(s.stamp)},
                {"by", author(s.stamp.replica)},
                {"at", s.wall_ms}};
  };
  const int64_t now = clock_.wall().now_ms();
  const Json fields = {{"collection", collection}, {"record", id},       {"field", field},
                       {"kept", side(kept)},        {"lost", side(lost)}, {"detected_at", now}};
  const Stamp stamp{clock_.tick(), kRegistryReplica};
  const int64_t seq = store_.next_seq();
  StoredRecord conflict;
  for (const auto& [name, value] : fields.items()) conflict.fields.emplace(name, StoredField{value.dump(), stamp, now});
  store_.write_record(kConflictsCollection, conflict_id, device_.org_id, conflict, seq);
  ++response_.conflicts_created;
}

void Registry::Merge::apply(const RecordChange& change) {
  change_seq_ = 0;
  StoredRecord& stored = record(change);
  StoredFields& current = stored.fields;
  const bool is_conflict_record = change.collection == kConflictsCollection;

  // The tombstone first, so that a restore in this same change is seen by the edits with it.
  std::vector<const std::pair<const std::string, FieldChange>*> ordered;
  for (const auto& entry : change.fields)
    if (entry.first == kDeletedField) ordered.insert(ordered.begin(), &entry);
    else ordered.push_back(&entry);

  std::optional<Stamp> newest_edit;  // newest user-field write applied from this change
  bool deleted_here = false;
  for (const auto* entry : ordered) {
    const std::string& field = entry->first;
    const FieldChange& incoming = entry->second;
    if (already_applied(change, field, incoming.stamp.hlc)) continue;
    Stamp stamp = incoming.stamp;
    stamp.hlc = clamp(stamp.hlc);
    if (stamp.hlc != incoming.stamp.hlc) {
      response_.clamped.push_back({change.collection, change.id, field, incoming.stamp.hlc, stamp.hlc});
      clamped_writes_[{change.collection, change.id, incoming.stamp.hlc}] = stamp.hlc;
    }
    clock_.observe(stamp.hlc);
    StoredField data{incoming.value, stamp, incoming.wall_ms};
    if (field != kDeletedField && (!newest_edit || stamp > *newest_edit)) newest_edit = stamp;

    auto it = current.find(field);
    if (it == current.end()) {
      write(change, current, field, data);
      if (field == kDeletedField && data.value == "true") deleted_here = true;
      continue;
    }
    StoredField& existing = it->second;
    if (existing.stamp == stamp) continue;
    // Concurrent: the writer did not see the value it is replacing, that value came from
    // somebody else, and the two differ. Same-device writes are always ordered.
    const bool concurrent = !is_conflict_record && (!incoming.base || *incoming.base != existing.stamp) &&
                            existing.stamp.replica != stamp.replica && existing.value != data.value;
    const bool incoming_wins = stamp > existing.stamp;
    if (concurrent) {
      const Side in{data.value, stamp, data.wall_ms}, held{existing.value, existing.stamp, existing.wall_ms};
      record_conflict(change.collection, change.id, field, incoming_wins ? in : held, incoming_wins ? held : in);
    }
    if (incoming_wins) {
      write(change, current, field, data);
      if (field == kDeletedField && data.value == "true") deleted_here = true;
    }
  }
  // The newest write taken from this device, so that a replay of this change is recognised.
  int64_t newest = 0;
  for (const auto& [field, incoming] : change.fields) newest = std::max(newest, incoming.stamp.hlc);
  if (int64_t& mark = stored.applied[device_.replica]; newest > mark) {
    mark = newest;
    changed_.emplace(std::make_pair(change.collection, change.id), 0);
  }
  if (is_conflict_record) return;

  // A delete and an edit that did not see each other: the record stays deleted, and the edit
  // is kept as a conflict so a person can bring the record back with it.
  auto tombstone = current.find(kDeletedField);
  if (tombstone == current.end() || tombstone->second.value != "true") return;
  const StoredField& deletion = tombstone->second;
  const Side deleted_side{"true", deletion.stamp, deletion.wall_ms};
  if (newest_edit && !deleted_here && deletion.stamp.replica != device_.replica &&
      (!change.deleted_base || *change.deleted_base != deletion.stamp)) {
    record_conflict(change.collection, change.id, kDeletedField, deleted_side, Side{"false", *newest_edit, 0});
  }
  if (deleted_here) {
    std::optional<Side> unseen;
    for (const auto& [name, data] : current) {
      if (name == kDeletedField || data.stamp.replica == device_.replica) continue;
      auto seen = change.seen.find(name);
      if (seen != change.seen.end() && seen->second == data.stamp) continue;
      if (!unseen || data.stamp > unseen->stamp) unseen = Side{"false", data.stamp, data.wall_ms};
    }
    if (unseen) record_conflict(change.collection, change.id, kDeletedField, deleted_side, *unseen);
  }
}

void Registry::Merge::finish() {
  for (const auto& [key, seq] : changed_) {
    const StoredRecord& stored = records_.at(key);
    store_.write_record(key.first, key.second, device_.org_id, stored, seq != 0 ? seq : stored.seq);
    const auto attachments = stored.fields.find(form_records::kAttachmentsField);
    if (seq != 0 && attachments != stored.fields.end())
      store_.set_file_references(key.first, key.second, device_.org_id, named_files(attachments->second));
  }
  for (const auto& [key, to] : clamped_writes_) {
    const auto& [collection, id, hlc] = key;
    store_.insert_receipt(device_.id, collection, id, hlc, {request_.seq, to});
  }
  store_.set_meta("hlc", std::to_string(clock_.last()));
}

bool Registry::file_referenced(const std::string& org_id, const std::string& sha256) {
  std::lock_guard<std::mutex> lock(mutex_);
  StoreTransaction tx(store_);
  const bool referenced = store_.file_referenced(org_id, sha256);
  tx.commit();
  return referenced;
}

SyncResponse Registry::sync(const Principal& who, const SyncRequest& request) {
  const Device caller = require_device(who);
  std::lock_guard<std::mutex> lock(mutex_);
  StoreTransaction tx(store_);
  // Reload: the request number must be read inside this transaction.
  const Device device = *store_.find_device(caller.id);
  if (request.seq <= device.request_hwm)
    throw ApiError(409, "stale_request",
                   "request " + std::to_string(request.seq) + " was already confirmed by this device; this is a replay",
                   {{"expected_seq", device.request_hwm + 1}});

  // Check everything before writing anything.
  SyncResponse response;
  response.acked = request.changes.size();
  Merge merge(store_, clock_, device, request, response);
  const std::vector<std::string> known = store_.list_collections();
  for (size_t i = 0; i < request.changes.size(); ++i) {
    const RecordChange& change = request.changes[i];
    const std::string where = "changes[" + std::to_string(i) + "] (" + change.collection + "/" + change.id + ")";
    const bool is_conflict_record = change.collection == kConflictsCollection;
    if (!is_conflict_record && std::find(known.begin(), known.end(), change.collection) == known.end())
      throw ApiError(422, "unknown_collection",
                     where + ": unknown collection '" + change.collection + "'; this registry has: " +
                         Json(known).dump());
    for (const auto& [field, value] : change.fields) {
      if (value.stamp.replica != device.replica)
        throw ApiError(400, "foreign_stamp", where + "." + field + ": a device can only send its own writes");
      if (is_conflict_record ? field != kResolutionField
                             : field == kDeletedField ? value.value != "true" && value.value != "false"
                                                      : !sync::is_valid_field_name(field))
        throw ApiError(400, "invalid_field", where + ": field '" + field + "' cannot be written here");
    }
    // A change well formed but not this device's to make is refused alone: the device keeps it
    // aside, and its other changes go on.
    const std::string record = change.collection + "/" + change.id;
    if (sync::is_registry_written(change.collection)) {
      response.refused.push_back({i, "forbidden", record + " is published by the registry and read-only for devices"});
      continue;
    }
    const std::optional<std::string>& partition = merge.record(change).partition;
    if (is_conflict_record && !partition) {
      response.refused.push_back({i, "unknown_conflict", record + ": no such conflict to resolve"});
      continue;
    }
    if (partition && *partition != device.org_id)
      response.refused.push_back(
          {i, "forbidden",
           record + (*partition == kPublicPartition ? " is published to everyone and read-only for devices"
                                                    : " is an id another organization uses: write it under another id")});
  }
  size_t next_refused = 0;
  for (size_t i = 0; i < request.changes.size(); ++i) {
    if (next_refused < response.refused.size() && response.refused[next_refused].index == i) {
      ++next_refused;
      continue;
    }
    merge.apply(request.changes[i]);
  }
  merge.finish();
  store_.prune_receipts(device.id, request.seq - 1);
  store_.set_device_seen(device.id, request.seq - 1, clock_.now_ms());

  // What the device has not seen, its own writes excluded, whole record changes at a time. A
  // cursor beyond anything this registry handed out means its database was replaced (restored
  // from a backup, say): the device gets everything again, which merging makes harmless.
  const int64_t cursor = request.cursor > store_.current_seq() ? 0 : request.cursor;
  size_t bytes = 0;
  int64_t last_seq = cursor;
  response.more = false;
  store_.changes_since({device.org_id, kPublicPartition}, cursor, device.replica, [&](const ChangeRow& row) {
    if (response.changes.size() >= request.limit || bytes > kSoftResponseBytes) {
      response.more = true;
      return false;
    }
    last_seq = row.seq;
    PulledRecord record{row.collection, row.id, {}};
    // Every field but the device's own: a record's row moves to the end of the feed with its
    // newest write and carries older fields along, which a batched pull may not have seen.
    sync::visit_stored_fields(row.fields, [&](std::string_view name, std::string_view value, Stamp&& stamp, int64_t at) {
      if (stamp.replica != device.replica)
        record.fields.emplace(name, PulledField{std::string(value), std::move(stamp), at});
    });
    bytes += row.fields.size();
    if (!record.fields.empty()) response.changes.push_back(std::move(record));
    return true;
  });
  response.cursor = response.more ? last_seq : store_.current_seq();
  response.registry_clock_ms = clock_.now_ms();
  response.collections = known;
  tx.commit();
  return response;
}

}  // namespace outpost::registry
