// A registry and several devices in one process, each device with its own clock, for tests
// that drive whole sync scenarios step by step.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "support/in_process.h"
#include "sync/engine.h"

namespace outpost::test {

struct TestDevice {
  std::unique_ptr<ManualClock> clock;
  std::unique_ptr<sync::Replica> replica;
  std::unique_ptr<InProcessTransport> transport;
  std::string token;

  sync::SyncReport sync(int attempts = 4) {
    sync::SyncEngine engine(*replica, *transport, token);
    sync::SyncOptions options;
    options.max_attempts = attempts;
    options.sleep = [](std::chrono::milliseconds) {};
    return engine.run(options);
  }
};

// Every field of every record as (collection, id, field) -> (value, hlc, replica).
using FieldSnapshot = std::map<std::tuple<std::string, std::string, std::string>, std::tuple<std::string, int64_t, std::string>>;

inline FieldSnapshot snapshot(db::Database& db) {
  FieldSnapshot result;
  // Both ends keep a row per record with its fields (sync/stored_fields.h).
  db::Statement rows(db.handle(), "SELECT collection, id, fields FROM records");
  while (rows.step())
    sync::visit_stored_fields(rows.text(2), [&](std::string_view field, std::string_view value, sync::Stamp&& stamp,
                                                int64_t) {
      result[{rows.text(0), rows.text(1), std::string(field)}] = {std::string(value), stamp.hlc, stamp.replica};
    });
  return result;
}

struct World {
  static constexpr int64_t kStart = 1'790'000'000'000;  // a fixed instant in 2026

  ManualClock registry_clock{kStart};
  InProcessRegistry registry{registry_clock};
  std::string org = registry.registry.add_org("Field Team").id;
  std::deque<TestDevice> devices;  // a deque: references stay valid as devices are added

  TestDevice& add_device(int64_t skew_ms = 0, const std::string& org_id = "") {
    TestDevice device;
    device.clock = std::make_unique<ManualClock>(kStart + skew_ms);
    device.replica = std::make_unique<sync::Replica>(":memory:", *device.clock);
    device.transport = std::make_unique<InProcessTransport>(registry);
    device.token = enroll(registry, *device.replica, org_id.empty() ? org : org_id,
                          "device " + std::to_string(devices.size()));
    devices.push_back(std::move(device));
    return devices.back();
  }

  void advance(int64_t ms) {
    registry_clock.advance(ms);
    for (TestDevice& device : devices) device.clock->advance(ms);
  }

  // Everyone syncs until nothing moves: two full rounds after the outboxes are empty.
  void settle() {
    for (int round = 0; round < 3; ++round)
      for (TestDevice& device : devices) device.sync();
  }
};

}  // namespace outpost::test
