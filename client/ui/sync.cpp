// Sync: "Sync now", the progress of a sync under way with counts and bytes, how the last one
// ended (the problem in plain words, with what to do), and when the next automatic try is.
#include "client/app/i18n.h"
#include "client/app/text.h"
#include "client/ui/screens.h"
#include "client/ui/theme.h"
#include "client/ui/widgets.h"

namespace outpost::ui {

using app::tr;
using app::translator;

void draw_sync(Frame& frame) {
  const app::AppState& state = frame.state;
  heading(tr("screen.sync"), frame.heading);
  if (!state.enrollment) {
    enroll_first(frame);
    return;
  }
  wrapped_text(tr("sync.explained"));
  sync_now_button(frame);
  if (state.sync.running) {
    heading(tr("sync.in_progress"), frame.heading);
    show_sync_progress(frame);
    return;
  }
  heading(tr("dashboard.last_sync"), frame.heading);
  show_last_sync(frame, true);
  if (state.sync.next_attempt_ms)
    muted_text(translator().format("sync.next_attempt",
                                   {{"time", app::format_time(*state.sync.next_attempt_ms)}}));
  else
    muted_text(tr("sync.no_automatic_attempt"));
  heading(tr("dashboard.waiting"), frame.heading);
  show_waiting_changes(frame);
  if (state.status.refused_changes > 0) {
    heading(tr("sync.refused"), frame.heading);
    wrapped_text(translator().count("sync.refused_explained", state.status.refused_changes));
    for (const sync::RefusedWrite& write : state.refused)
      wrapped_text(write.collection + " / " + write.id + ": " + write.message);
  }
  if (state.refused_files_total > 0) {
    heading(tr("sync.refused_files"), frame.heading);
    wrapped_text(translator().count("sync.refused_files_explained", state.refused_files_total));
    for (const client::RefusedUpload& file : state.refused_files) wrapped_text(file.reason);
  }
}

}  // namespace outpost::ui
