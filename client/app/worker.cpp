#include "client/app/worker.h"

#include <pthread.h>

#include "client/cli.h"
#include "client/library.h"
#include "platform/log.h"

namespace outpost::app {

namespace {
using SteadyClock = SyncSchedule::Clock;
}  // namespace

Worker::Worker(Options options) : options_(std::move(options)), schedule_(options_.schedule) {
  AppState opening;
  opening.home_directory = options_.home_directory;
  snapshot_ = std::make_shared<const AppState>(std::move(opening));
  thread_ = std::thread([this] { run(); });
}

Worker::~Worker() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wakeup_.notify_all();
  thread_.join();
}

void Worker::post(Commands commands) {
  if (commands.empty()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (Command& command : commands) queue_.push_back(std::move(command));
  }
  wakeup_.notify_all();
}

std::shared_ptr<const AppState> Worker::snapshot() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return snapshot_;
}

// --- The thread

void Worker::run() {
  // Named, so its CPU can be told from the window's and the rasteriser's (bench/client).
  pthread_setname_np(pthread_self(), "outpost-worker");
  open_home();
  if (!model_) {
    std::unique_lock<std::mutex> lock(mutex_);
    wakeup_.wait(lock, [this] { return stopping_.load(); });
    return;
  }
  schedule_.start(SteadyClock::now(), model_->enrolled());
  publish();
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      auto has_work = [this] { return stopping_ || !queue_.empty(); };
      if (const auto due = schedule_.due())
        wakeup_.wait_until(lock, *due, has_work);
      else
        wakeup_.wait(lock, has_work);
      if (stopping_) return;
    }
    apply(take_queue());
    sync_if_due();
    publish();
  }
}

void Worker::open_home() {
  AppModel::Options model_options;
  model_options.transports = options_.transports;
  if (!model_options.transports) {
    sync::CurlTransport::Options curl;
    curl.cancelled = [this] { return stopping_.load(); };
    model_options.transports = client::curl_transport_factory(std::move(curl));
  }
  model_options.cancelled = [this] { return stopping_.load(); };
  model_options.sync.max_attempts = options_.sync_attempts;
  model_options.sync.sleep = [this](std::chrono::milliseconds wait) {
    std::unique_lock<std::mutex> lock(mutex_);
    wakeup_.wait_for(lock, wait, [this] { return stopping_.load(); });
  };
  // Between batches of a long sync: show the progress, and do what the user asked meanwhile.
  model_options.on_progress = [this] {
    publish();
    apply(take_queue());
  };
  // A download shows its progress; commands wait for it to end (one file at a time).
  model_options.on_download_progress = [this] { publish(); };
  try {
    model_ = std::make_unique<AppModel>(options_.home_directory, std::move(model_options));
  } catch (const std::exception& error) {
    log::error(std::string("cannot open ") + options_.home_directory + ": " + error.what());
    AppState failed;
    failed.home_directory = options_.home_directory;
    failed.home_problem = Problem{"problem.home_unusable", {{"path", options_.home_directory}}, error.what()};
    publish_state(std::move(failed));
  }
}

Commands Worker::take_queue() {
  std::lock_guard<std::mutex> lock(mutex_);
  Commands commands;
  commands.swap(queue_);
  return commands;
}

void Worker::apply(const Commands& commands) {
  for (const Command& command : commands) {
    if (stopping_) return;
    Effect effect;
    try {
      effect = model_->apply(command);
    } catch (const client::LibraryCancelled&) {
      return;  // closing
    } catch (const std::exception& error) {
      // Commands report their own failures in the state; this is the replica itself failing.
      log::error(std::string("the app could not carry out a command: ") + error.what());
      continue;
    }
    const auto now = SteadyClock::now();
    if (effect.enrolled) schedule_.start(now, true);
    if (effect.synced) after_sync(*effect.synced);
    if (effect.local_change) schedule_.local_change(now);
  }
}

void Worker::sync_if_due() {
  const auto due = schedule_.due();
  if (stopping_ || !due || SteadyClock::now() < *due) return;
  SyncOutcome outcome = SyncOutcome::RetryLater;
  try {
    outcome = model_->sync();  // it reports sync failures itself; this is the replica failing after it
  } catch (const std::exception& error) {
    if (!stopping_) log::error(std::string("the automatic sync could not finish: ") + error.what());
  }
  after_sync(outcome);
}

void Worker::after_sync(SyncOutcome outcome) {
  const auto now = SteadyClock::now();
  schedule_.finished(now, outcome);
  // A change made while the last batch was under way leaves soon, not at the next periodic sync.
  if (outcome == SyncOutcome::Synced && model_->state().status.pending_changes > 0) schedule_.local_change(now);
}

void Worker::publish() {
  std::optional<int64_t> next_attempt;
  if (const auto due = schedule_.due()) {
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(*due - SteadyClock::now());
    next_attempt = SystemClock::instance().now_ms() + std::max<int64_t>(0, wait.count());
  }
  model_->set_next_attempt(next_attempt);
  publish_state(model_->state());
}

void Worker::publish_state(AppState state) {
  state.version = ++version_;
  auto snapshot = std::make_shared<const AppState>(std::move(state));
  {
    std::lock_guard<std::mutex> lock(mutex_);
    snapshot_ = std::move(snapshot);
  }
  if (options_.wake) options_.wake();
}

}  // namespace outpost::app
