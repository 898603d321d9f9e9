// At a glance: the link to the registry, the last sync and how it ended, what waits to be
// sent, conflicts waiting for a decision, and the urgent reports in the queue.
#include "client/app/i18n.h"
#include "client/app/text.h"
#include "client/ui/screens.h"
#include "client/ui/theme.h"
#include "client/ui/widgets.h"

namespace outpost::ui {

using app::tr;
using app::translator;

namespace {

void connection_section(Frame& frame) {
  const app::AppState& state = frame.state;
  heading(tr("dashboard.connection"), frame.heading);
  if (!state.enrollment) {
    enroll_first(frame);
    return;
  }
  switch (state.connection) {
    case app::Connection::Online: colored_text(palette().ok, tr("dashboard.online")); break;
    case app::Connection::Offline: colored_text(palette().warning, tr("dashboard.offline")); break;
    case app::Connection::Unknown: wrapped_text(tr("dashboard.not_tried")); break;
  }
  if (begin_facts("connection_facts")) {
    fact(tr("facts.registry"), state.enrollment->registry_url);
    fact(tr("facts.organization"), state.enrollment->org_name);
    end_facts();
  }
}

void last_sync_section(Frame& frame) {
  const app::AppState& state = frame.state;
  heading(tr("dashboard.last_sync"), frame.heading);
  if (state.sync.running)
    show_sync_progress(frame);
  else
    show_last_sync(frame, false);
  sync_now_button(frame);
}

void waiting_section(Frame& frame) {
  const app::AppState& state = frame.state;
  heading(tr("dashboard.waiting"), frame.heading);
  show_waiting_changes(frame);

  const int64_t conflicts = static_cast<int64_t>(state.conflicts->size());
  if (conflicts == 0) {
    wrapped_text(tr("dashboard.no_conflicts"));
  } else {
    colored_text(palette().warning, translator().count("dashboard.conflicts_waiting", conflicts));
    if (button(tr("dashboard.review_conflicts"), "review_conflicts")) open_screen(frame, ScreenId::Conflicts);
  }
}

void urgent_section(Frame& frame) {
  const app::AppState& state = frame.state;
  heading(tr("dashboard.urgent"), frame.heading);
  if (state.urgent.empty()) {
    wrapped_text(tr("dashboard.no_urgent"));
    return;
  }
  for (const sync::QueuedRecord& queued : state.urgent) {
    ImGui::Bullet();
    ImGui::SameLine();
    wrapped_text(translator().format("dashboard.urgent_item", {{"collection", queued.collection},
                                                                {"id", queued.id},
                                                                {"when", app::format_ago(queued.written_ms, frame.now_ms)}}));
  }
  const int64_t more = state.urgent_total - static_cast<int64_t>(state.urgent.size());
  if (more > 0) muted_text(translator().count("dashboard.urgent_more", more));
}

}  // namespace

void draw_dashboard(Frame& frame) {
  connection_section(frame);
  last_sync_section(frame);
  waiting_section(frame);
  urgent_section(frame);
}

}  // namespace outpost::ui
