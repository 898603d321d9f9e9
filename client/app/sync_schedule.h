// When the worker syncs by itself: at start, soon after a local change, on a growing backoff
// while there is no connection (so a connection that appears is used within minutes, without
// draining a battery on a link that is down for days), and now and then when all is well, to
// receive what others sent. Pure: times go in, the next due time comes out.
#pragma once

#include <chrono>
#include <optional>

#include "client/app/app_model.h"

namespace outpost::app {

struct SyncPolicy {
  std::chrono::seconds first_retry{30};
  std::chrono::seconds longest_retry{600};
  std::chrono::seconds after_local_change{2};  // lets a burst of edits leave together
  std::chrono::seconds when_up_to_date{600};
};

class SyncSchedule {
 public:
  using Clock = std::chrono::steady_clock;
  using TimePoint = Clock::time_point;

  explicit SyncSchedule(SyncPolicy policy = {}) : policy_(policy) {}

  // The app started (or just enrolled): sync right away when enrolled.
  void start(TimePoint now, bool enrolled);
  // A sync ended, on its own schedule or asked for.
  void finished(TimePoint now, SyncOutcome outcome);
  void local_change(TimePoint now);

  // When the next automatic sync is due; none while only the user can help.
  std::optional<TimePoint> due() const { return due_; }
  std::chrono::seconds current_retry() const { return retry_; }

 private:
  SyncPolicy policy_;
  std::optional<TimePoint> due_;
  std::chrono::seconds retry_{0};  // the wait after the next failure
  bool stalled_ = false;           // the last failure needs the user
};

}  // namespace outpost::app
