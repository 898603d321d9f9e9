// The worker thread: it owns the app model (and so the replica, the network and every other
// I/O), applies the commands the window posts, syncs on its schedule, and publishes a new
// snapshot after each change, calling `wake` so the window draws it. The window thread only
// posts commands and reads snapshots.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "client/app/app_model.h"
#include "client/app/sync_schedule.h"

namespace outpost::app {

class Worker {
 public:
  struct Options {
    std::string home_directory;
    // Called on the worker thread after each new snapshot: quick, and safe from any thread.
    std::function<void()> wake;
    // Empty: libcurl, with transfers given up as soon as the worker stops.
    client::TransportFactory transports;
    SyncPolicy schedule;
    int sync_attempts = 3;  // per batch, within one sync; the schedule retries beyond that
  };

  explicit Worker(Options options);
  // Stops the thread: a transfer under way is cancelled, a pending retry wait cut short.
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void post(Commands commands);
  // The newest snapshot; version 0 until the home is open.
  std::shared_ptr<const AppState> snapshot() const;

 private:
  void run();
  void open_home();
  void apply(const Commands& commands);
  Commands take_queue();
  void sync_if_due();
  void after_sync(SyncOutcome outcome);
  void publish();
  void publish_state(AppState state);

  Options options_;
  SyncSchedule schedule_;
  std::unique_ptr<AppModel> model_;  // worker thread only
  uint64_t version_ = 0;

  mutable std::mutex mutex_;
  std::condition_variable wakeup_;
  Commands queue_;
  std::atomic<bool> stopping_{false};
  std::shared_ptr<const AppState> snapshot_;
  std::thread thread_;  // last: starts once everything above exists
};

}  // namespace outpost::app
