// Property tests over the merge: random operations on 3 to 5 replicas, synced in random
// orders over a link that loses requests and answers and sends some twice, with stale
// requests replayed, must always converge; every value overwritten by a write that had not
// seen it must be kept in a conflict; resolving leaves no open conflict after one more round.
#include <doctest/doctest.h>

#include <queue>
#include <random>

#include "support/world.h"

using namespace outpost;
using namespace outpost::test;
using sync::Json;
using sync::Stamp;

namespace {

// One write as its author made it: what it set and the stamp it replaced on that device.
struct Write {
  std::string collection, id, field;
  std::string value;  // JSON text
  Stamp stamp;
  std::optional<Stamp> base;
};

using FieldKey = std::tuple<std::string, std::string, std::string>;

class Scenario {
 public:
  explicit Scenario(uint32_t seed) : rng_(seed) {
    std::uniform_int_distribution<int> device_count(3, 5);
    const int count = device_count(rng_);
    std::uniform_int_distribution<int64_t> skew(-120'000, 120'000);  // within the clamp window
    for (int i = 0; i < count; ++i) world_.add_device(skew(rng_));
    for (TestDevice& device : world_.devices)
      device.transport->faults = [this] { return random_fault(); };
  }

  void run(int steps) {
    for (int step = 0; step < steps; ++step) {
      const int action = pick(100);
      if (action < 45) random_put();
      else if (action < 55) random_delete();
      else if (action < 90) random_sync();
      else if (action < 95) replay_stale_request();
      else world_.advance(pick(2000));
      world_.advance(pick(5));
    }
  }

  void settle() {
    for (TestDevice& device : world_.devices) device.transport->faults = nullptr;
    world_.settle();
  }

  void check_converged() {
    const FieldSnapshot reference = registry_fields();
    for (size_t i = 0; i < world_.devices.size(); ++i) {
      CAPTURE(i);
      CHECK(world_.devices[i].replica->status().pending_changes == 0);
      CHECK(snapshot(world_.devices[i].replica->database()) == reference);
    }
  }

  // Every write either still stands, is kept in a conflict, was seen by a write that stands or
  // is kept (directly or through a chain of such writes), or set the same value as one of those.
  void check_nothing_silently_lost() {
    // Writes are told apart by field and stamp: one put stamps all its fields alike.
    using WriteKey = std::pair<FieldKey, Stamp>;
    std::map<WriteKey, const Write*> writes_by_key;
    for (const Write& write : writes_) writes_by_key[{{write.collection, write.id, write.field}, write.stamp}] = &write;

    std::set<WriteKey> preserved;
    std::map<FieldKey, std::set<std::string>> preserved_values;
    for (const auto& [key, value] : registry_fields()) {
      preserved.insert({key, Stamp{std::get<1>(value), std::get<2>(value)}});
      preserved_values[key].insert(std::get<0>(value));
    }
    for (const sync::Conflict& conflict : world_.devices[0].replica->conflicts(false)) {
      const FieldKey key{conflict.collection, conflict.record_id, conflict.field};
      for (const sync::ConflictSide* side : {&conflict.kept, &conflict.lost}) {
        preserved.insert({key, side->stamp});
        preserved_values[key].insert(side->value.dump());
      }
    }
    // Everything a preserved write had seen is accounted for, and so on down the chain. A write
    // of a value equal to one accounted for on the same field counts as that value (equal
    // values written concurrently are not a conflict), so its own chain is followed too.
    std::set<WriteKey> accounted;
    std::queue<WriteKey> pending;
    for (const WriteKey& key : preserved) pending.push(key);
    for (bool grew = true; grew;) {
      while (!pending.empty()) {
        const WriteKey key = pending.front();
        pending.pop();
        if (!accounted.insert(key).second) continue;
        auto it = writes_by_key.find(key);
        if (it == writes_by_key.end()) continue;
        preserved_values[key.first].insert(it->second->value);
        if (it->second->base) pending.push({key.first, *it->second->base});
      }
      grew = false;
      for (const Write& write : writes_) {
        const WriteKey key{{write.collection, write.id, write.field}, write.stamp};
        if (!accounted.count(key) && preserved_values[key.first].count(write.value)) {
          pending.push(key);
          grew = true;
        }
      }
    }
    for (const Write& write : writes_) {
      const FieldKey key{write.collection, write.id, write.field};
      if (accounted.count({key, write.stamp})) continue;
      describe_field(key);
      FAIL_CHECK("write " << write.collection << "/" << write.id << "." << write.field << " = " << write.value
                          << " by " << write.stamp.replica << " at " << write.stamp.hlc << " was lost");
    }
  }

  // The whole story of one field, for a failure report.
  void describe_field(const FieldKey& key) {
    auto text = [](const Stamp& stamp) { return std::to_string(stamp.hlc) + "/" + stamp.replica.substr(0, 4); };
    for (const Write& w : writes_)
      if (FieldKey{w.collection, w.id, w.field} == key)
        MESSAGE("write " << w.value << " " << text(w.stamp) << " base " << (w.base ? text(*w.base) : std::string("-")));
    for (const sync::Conflict& c : world_.devices[0].replica->conflicts(false))
      if (FieldKey{c.collection, c.record_id, c.field} == key)
        MESSAGE("conflict kept " << c.kept.value << " " << text(c.kept.stamp) << " lost " << c.lost.value << " "
                                 << text(c.lost.stamp));
    for (const auto& [field_key, value] : registry_fields())
      if (field_key == key) MESSAGE("final " << std::get<0>(value) << " " << std::get<1>(value));
  }

  // Each field in conflict is settled once, on a device picked at random that syncs before and
  // after (as the app does around a decision); after one more round no device has an open
  // conflict and all still agree.
  void resolve_everything() {
    std::map<FieldKey, sync::Conflict> by_field;
    for (const sync::Conflict& conflict : world_.devices[0].replica->conflicts())
      by_field.emplace(FieldKey{conflict.collection, conflict.record_id, conflict.field}, conflict);
    for (const auto& [key, conflict] : by_field) {
      TestDevice& device = world_.devices[static_cast<size_t>(pick(static_cast<int>(world_.devices.size())))];
      Json value = pick(2) ? conflict.kept.value : conflict.lost.value;
      if (std::get<2>(key) != sync::kDeletedField && pick(3) == 0) value = "merged " + std::to_string(pick(100));
      device.sync();
      auto current = device.replica->conflict(conflict.id);
      if (!current || !current->open) continue;
      device.replica->resolve(conflict.id, value);
      device.sync();
    }
    for (TestDevice& device : world_.devices) device.sync();
    for (size_t i = 0; i < world_.devices.size(); ++i) {
      CAPTURE(i);
      CHECK(world_.devices[i].replica->conflicts().empty());
    }
    check_converged();
  }

  size_t conflict_count() { return world_.devices[0].replica->conflicts(false).size(); }

 private:
  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  TestDevice& random_device() { return world_.devices[static_cast<size_t>(pick(static_cast<int>(world_.devices.size())))]; }
  std::string random_id() { return "r" + std::to_string(pick(6)); }

  Fault random_fault() {
    const int roll = pick(10);
    return roll == 0 ? Fault::LoseRequest : roll == 1 ? Fault::LoseAnswer : roll == 2 ? Fault::SendTwice : Fault::None;
  }

  std::optional<Stamp> local_stamp(sync::Replica& replica, const std::string& id, const std::string& field) {
    auto record = replica.get("notes", id);
    if (!record) return std::nullopt;
    if (field == sync::kDeletedField) return record->tombstone ? std::optional(record->tombstone->stamp) : std::nullopt;
    auto it = record->fields.find(field);
    return it == record->fields.end() ? std::nullopt : std::optional(it->second.stamp);
  }

  void random_put() {
    TestDevice& device = random_device();
    const std::string id = random_id();
    Json fields = Json::object();
    const char* names[] = {"a", "b", "c"};
    for (int i = 0, n = 1 + pick(2); i < n; ++i) fields[names[pick(3)]] = pick(4);  // small values: equal ones happen
    std::map<std::string, std::optional<Stamp>> bases;
    for (const auto& [name, value] : fields.items()) bases[name] = local_stamp(*device.replica, id, name);
    auto record = device.replica->get("notes", id);
    const bool restores = record && record->deleted;
    const auto tombstone_base = local_stamp(*device.replica, id, sync::kDeletedField);
    const Stamp stamp = device.replica->put("notes", id, fields);
    for (const auto& [name, value] : fields.items()) writes_.push_back({"notes", id, name, value.dump(), stamp, bases[name]});
    if (restores) writes_.push_back({"notes", id, sync::kDeletedField, "false", stamp, tombstone_base});
  }

  void random_delete() {
    TestDevice& device = random_device();
    const std::string id = random_id();
    auto record = device.replica->get("notes", id);
    if (!record || record->deleted) return;
    const auto base = local_stamp(*device.replica, id, sync::kDeletedField);
    const Stamp stamp = device.replica->remove("notes", id);
    writes_.push_back({"notes", id, sync::kDeletedField, "true", stamp, base});
  }

  void random_sync() {
    try {
      random_device().sync(2);
    } catch (const sync::SyncError&) {
      // The link failed twice in a row: the device tries again at a later step.
    }
  }

  // An old request arrives again (a proxy retried it): the registry must change nothing.
  void replay_stale_request() {
    TestDevice& device = random_device();
    if (device.transport->sent.size() < 2) return;
    const auto& old = device.transport->sent[static_cast<size_t>(pick(static_cast<int>(device.transport->sent.size()) - 1))];
    const FieldSnapshot before = registry_fields();
    world_.registry.call(old);
    CHECK(registry_fields() == before);
  }

  FieldSnapshot registry_fields() { return snapshot(world_.registry.store.database()); }

  std::mt19937 rng_;
  World world_;
  std::vector<Write> writes_;
};

}  // namespace

TEST_CASE("merge property: random operations on 3-5 replicas converge and lose nothing silently") {
  size_t conflicts_seen = 0;
  for (uint32_t seed = 1; seed <= 60; ++seed) {
    CAPTURE(seed);
    Scenario scenario(seed);
    scenario.run(120);
    scenario.settle();
    scenario.check_converged();
    scenario.check_nothing_silently_lost();
    conflicts_seen += scenario.conflict_count();
    scenario.resolve_everything();
  }
  // The scenarios are meant to produce conflicts; a run without any would prove nothing.
  CHECK(conflicts_seen > 20);
}

TEST_CASE("merge property: field changes applied in any order, duplicated, give identical replicas") {
  std::mt19937 rng(7);
  auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
  for (int trial = 0; trial < 30; ++trial) {
    CAPTURE(trial);
    std::vector<sync::PulledRecord> changes;
    for (int i = 0; i < 80; ++i) {
      sync::PulledRecord record{"notes", "r" + std::to_string(pick(5)), {}};
      record.fields["f" + std::to_string(pick(3))] =
          sync::PulledField{std::to_string(pick(10)), Stamp{sync::hlc_from_millis(1000 + pick(40)) + i, "replica" + std::to_string(pick(3))}, 0};
      changes.push_back(record);
    }
    std::optional<FieldSnapshot> first;
    for (int replica_index = 0; replica_index < 4; ++replica_index) {
      sync::Replica replica(":memory:");
      std::vector<sync::PulledRecord> delivery = changes;
      for (int d = 0; d < 20; ++d) delivery.push_back(changes[static_cast<size_t>(pick(80))]);
      std::shuffle(delivery.begin(), delivery.end(), rng);
      int64_t cursor = 0;
      for (size_t start = 0; start < delivery.size(); start += 7) {
        sync::OutgoingBatch empty = replica.next_batch();
        sync::SyncResponse response;
        response.cursor = ++cursor;
        response.changes.assign(delivery.begin() + static_cast<long>(start),
                                delivery.begin() + static_cast<long>(std::min(start + 7, delivery.size())));
        replica.apply_response(empty, response);
      }
      const FieldSnapshot state = snapshot(replica.database());
      if (!first) first = state;
      else CHECK(state == *first);
    }
  }
}
