#include "client/ui/script.h"

#include <algorithm>
#include <cctype>
#include <sstream>

#include "client/ui/screens.h"

namespace outpost::ui {

using namespace std::chrono_literals;

namespace {

constexpr int kSettleFrames = 3;        // Dear ImGui needs a frame or two to show what an input did
constexpr int kSettledAfterFrames = 10;  // "settled": this many frames with no new snapshot
constexpr auto kClickTimeout = 10s;      // for the control to appear and be enabled
constexpr auto kWaitTimeout = 60s;
const char* const kConditions[] = {"enrolled", "synced", "sync-failed", "settled"};

std::string trim(const std::string& text) {
  const auto begin = text.find_first_not_of(" \t\r");
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(" \t\r") - begin + 1);
}

std::string unquote(const std::string& text) {
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"') return text.substr(1, text.size() - 2);
  return text;
}

std::string describe(const ScriptStep& step) {
  static const char* const kNames[] = {"click", "see", "type", "wait", "screenshot", "scroll", "mark", "quit"};
  return std::string(kNames[static_cast<int>(step.kind)]) + (step.argument.empty() ? "" : " " + step.argument);
}

}  // namespace

// --- Scripts

Script Script::parse(const std::string& text, const std::string& source) {
  Script script;
  script.source_ = source;
  std::istringstream lines(text);
  std::string line;
  for (int number = 1; std::getline(lines, line); ++number) {
    line = trim(line);
    if (line.empty() || line[0] == '#') continue;
    const auto space = line.find_first_of(" \t");
    const std::string verb = line.substr(0, space);
    const std::string argument = space == std::string::npos ? "" : unquote(trim(line.substr(space)));
    auto error = [&](const std::string& what) {
      return ScriptError(source + " line " + std::to_string(number) + ": " + what);
    };
    ScriptStep step;
    step.line = number;
    step.argument = argument;
    if (verb == "click" || verb == "see" || verb == "type" || verb == "screenshot") {
      if (argument.empty()) throw error("'" + verb + "' needs an argument");
      step.kind = verb == "click" ? ScriptStep::Kind::Click
                  : verb == "see" ? ScriptStep::Kind::See
                  : verb == "type" ? ScriptStep::Kind::Type
                                   : ScriptStep::Kind::Screenshot;
      step.timeout = kClickTimeout;
    } else if (verb == "wait") {
      std::istringstream words(argument);
      std::string condition;
      double seconds = std::chrono::duration<double>(kWaitTimeout).count();
      words >> condition;
      if (std::find(std::begin(kConditions), std::end(kConditions), condition) == std::end(kConditions))
        throw error("unknown condition '" + condition + "' (use enrolled, synced, sync-failed or settled)");
      if (!words.eof() && (!(words >> seconds) || seconds <= 0 || !(words >> std::ws).eof()))
        throw error("'wait' takes a condition and optionally a number of seconds, not '" + argument + "'");
      step.kind = ScriptStep::Kind::Wait;
      step.argument = condition;
      step.timeout = std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
    } else if (verb == "scroll") {
      // The count is the last word, so a label with blanks can still be quoted before it.
      const auto last_space = argument.find_last_of(" \t");
      const std::string count = last_space == std::string::npos ? "" : argument.substr(last_space + 1);
      size_t used = 0;
      int frames = 0;
      try {
        frames = std::stoi(count, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used == 0 || used != count.size() || frames <= 0)
        throw error("'scroll' takes a control and a number of frames, e.g. scroll record_list 200, not '" + argument + "'");
      step.kind = ScriptStep::Kind::Scroll;
      step.argument = unquote(trim(argument.substr(0, last_space)));
      step.frames = frames;
      step.timeout = kClickTimeout;
    } else if (verb == "mark") {
      if (argument.empty()) throw error("'mark' needs a text");
      step.kind = ScriptStep::Kind::Mark;
    } else if (verb == "quit") {
      if (!argument.empty()) throw error("'quit' takes no argument");
      step.kind = ScriptStep::Kind::Quit;
    } else {
      throw error("unknown step '" + verb + "' (use click, see, type, wait, screenshot, scroll, mark or quit)");
    }
    script.steps_.push_back(std::move(step));
  }
  return script;
}

Script Script::screenshot_tour(const std::string& directory) {
  Script script;
  script.source_ = "the screenshot tour";
  for (const ScreenEntry& screen : screen_registry()) {
    script.steps_.push_back({ScriptStep::Kind::Click, std::string("nav.") + screen.name, kClickTimeout});
    script.steps_.push_back({ScriptStep::Kind::Wait, "settled", kWaitTimeout});
    script.steps_.push_back({ScriptStep::Kind::Screenshot, directory + "/" + screen.name + ".png", {}});
  }
  script.steps_.push_back({ScriptStep::Kind::Quit, "", {}});
  return script;
}

// --- Driving the window

ScriptDriver::ScriptDriver(Script script) : script_(std::move(script)) { done_ = script_.steps().empty(); }

std::optional<std::string> ScriptDriver::take_screenshot() {
  auto path = std::move(screenshot_);
  screenshot_.reset();
  return path;
}

std::optional<std::string> ScriptDriver::take_mark() {
  auto text = std::move(mark_);
  mark_.reset();
  return text;
}

void ScriptDriver::before_frame(ImGuiIO& io, const ItemLog& last_frame, const app::AppState& state,
                                Clock::time_point now) {
  // The virtual pointer stands in for whatever mouse the backend found (none, under Xvfb).
  io.MousePos = pointer_;
  io.MouseDown[0] = false;
  if (state.version != seen_version_) {
    seen_version_ = state.version;
    stable_frames_ = 0;
  } else {
    ++stable_frames_;
  }
  if (done_) return;
  if (step_ == 0 && phase_ == 0 && step_started_ == Clock::time_point{}) step_started_ = now;
  if (settle_ > 0) {
    --settle_;
    return;
  }
  const ScriptStep& step = script_.steps()[step_];
  const bool overdue = now - step_started_ > step.timeout;
  switch (step.kind) {
    case ScriptStep::Kind::Click: {
      if (phase_ == 2) {  // released above: controls act on release
        settle_ = kSettleFrames;
        advance(now);
        return;
      }
      const LoggedItem* item = last_frame.find(step.argument);
      if (!item || !item->enabled) {
        if (overdue) fail(item ? "the control stayed disabled" : "no control with this name or label appeared", state, last_frame);
        phase_ = 0;
        return;
      }
      const ImVec2 center((item->min.x + item->max.x) / 2, (item->min.y + item->max.y) / 2);
      if (center.y < item->visible_min.y || center.y > item->visible_max.y) {
        // Scrolled out of view: turn the wheel over its window, as a person would, until it shows.
        pointer_ = ImVec2((item->visible_min.x + item->visible_max.x) / 2, (item->visible_min.y + item->visible_max.y) / 2);
        io.MousePos = pointer_;
        io.MouseWheel = center.y > item->visible_max.y ? -1.0f : 1.0f;
        phase_ = 0;
        return;
      }
      if (phase_ == 0 || center.x != pointer_.x || center.y != pointer_.y) {
        // Hover it for a frame first; and again if the layout moved it (a first frame often does).
        pointer_ = center;
        io.MousePos = pointer_;
        phase_ = 1;
        return;
      }
      io.MouseDown[0] = true;  // press
      syncs_before_action_ = state.sync.finished;
      phase_ = 2;
      return;
    }
    case ScriptStep::Kind::See:
      if (last_frame.find(step.argument))
        advance(now);
      else if (overdue)
        fail("no control with this name or label appeared", state, last_frame);
      return;
    case ScriptStep::Kind::Type:
      io.AddInputCharactersUTF8(step.argument.c_str());
      syncs_before_action_ = state.sync.finished;
      settle_ = kSettleFrames;
      advance(now);
      return;
    case ScriptStep::Kind::Wait:
      if (condition_met(state))
        advance(now);
      else if (overdue)
        fail("the condition did not come true in time", state, last_frame);
      return;
    case ScriptStep::Kind::Screenshot:
      if (phase_ == 0) {  // no hover highlight in the picture
        pointer_ = ImVec2(-FLT_MAX, -FLT_MAX);
        io.MousePos = pointer_;
        settle_ = kSettleFrames;
        phase_ = 1;
      } else {
        screenshot_ = step.argument;
        advance(now);
      }
      return;
    case ScriptStep::Kind::Scroll: {
      if (phase_ == 0) {  // the pointer goes onto the control once; the list then moves under it
        const LoggedItem* item = last_frame.find(step.argument);
        if (!item) {
          if (overdue) fail("no control with this name or label appeared", state, last_frame);
          return;
        }
        pointer_ = ImVec2((item->min.x + item->max.x) / 2, (item->min.y + item->max.y) / 2);
        io.MousePos = pointer_;
        scrolled_frames_ = 0;
        phase_ = 1;
        return;
      }
      io.MouseWheel = -1.0f;  // one notch down
      if (++scrolled_frames_ >= step.frames) {
        settle_ = kSettleFrames;
        advance(now);
      }
      return;
    }
    case ScriptStep::Kind::Mark:
      mark_ = step.argument;
      advance(now);
      return;
    case ScriptStep::Kind::Quit:
      done_ = true;
      return;
  }
}

void ScriptDriver::advance(Clock::time_point now) {
  ++step_;
  phase_ = 0;
  step_started_ = now;
  if (step_ >= script_.steps().size()) done_ = true;
}

bool ScriptDriver::condition_met(const app::AppState& state) {
  const std::string& condition = script_.steps()[step_].argument;
  const bool sync_ended = !state.sync.running && state.sync.finished > syncs_before_action_;
  if (condition == "enrolled") return state.enrollment.has_value();
  if (condition == "synced") return sync_ended && !state.sync.problem;
  if (condition == "sync-failed") return sync_ended && state.sync.problem.has_value();
  return !state.sync.running && stable_frames_ >= kSettledAfterFrames;  // settled
}

void ScriptDriver::fail(const std::string& why, const app::AppState& state, const ItemLog& last_frame) {
  const ScriptStep& step = script_.steps()[step_];
  std::string message = script_.source() + (step.line ? " line " + std::to_string(step.line) : std::string()) + " (" +
                        describe(step) + "): " + why;
  for (const auto* problem : {&state.enroll_problem, &state.sync.problem})
    if (*problem) message += "; the app shows " + (*problem)->key + ": " + (*problem)->detail;
  std::string names;
  for (const LoggedItem& item : last_frame.items()) names += (names.empty() ? "" : ", ") + item.name;
  failure_ = message + "; controls on screen: " + (names.empty() ? "none" : names);
  done_ = true;
}

}  // namespace outpost::ui
