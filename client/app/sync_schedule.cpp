#include "client/app/sync_schedule.h"

#include <algorithm>

namespace outpost::app {

void SyncSchedule::start(TimePoint now, bool enrolled) {
  retry_ = policy_.first_retry;
  stalled_ = !enrolled;
  due_.reset();
  if (enrolled) due_ = now;
}

void SyncSchedule::finished(TimePoint now, SyncOutcome outcome) {
  switch (outcome) {
    case SyncOutcome::Synced:
      retry_ = policy_.first_retry;
      stalled_ = false;
      due_ = now + policy_.when_up_to_date;
      break;
    case SyncOutcome::RetryLater:
      stalled_ = false;
      due_ = now + retry_;
      retry_ = std::min(retry_ * 2, policy_.longest_retry);
      break;
    case SyncOutcome::NeedsUser:
      retry_ = policy_.first_retry;
      stalled_ = true;
      due_.reset();
      break;
  }
}

void SyncSchedule::local_change(TimePoint now) {
  if (stalled_) return;
  const TimePoint soon = now + policy_.after_local_change;
  due_ = due_ ? std::min(*due_, soon) : soon;
}

}  // namespace outpost::app
