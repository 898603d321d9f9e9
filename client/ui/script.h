// Scripted input, for tests and screenshots: steps that use the window as a person would. A
// click finds the control by its name or label in the last frame's item log, moves a virtual
// pointer onto it, presses and releases; typing queues characters for the field that has the
// focus. All of it goes through Dear ImGui's input (io.MousePos, io.MouseDown, the character
// queue), written after the platform backend's own, so the screens see a click exactly as from
// a mouse and emit the same commands.
//
// One step a line; '#' starts a comment; an argument may be quoted to keep blanks:
//   click NAME-OR-LABEL        e.g. click nav.settings, click "Sync now"
//   see NAME-OR-LABEL          wait until the control is drawn (a list's rows have come)
//   type TEXT
//   wait CONDITION [SECONDS]   enrolled | synced | sync-failed | settled
//   screenshot FILE            the next settled frame, as PNG
//   scroll NAME-OR-LABEL FRAMES  hover the control, then one wheel notch down on each of FRAMES frames
//   mark TEXT                  tell whoever watches stdout that this point was reached (benchmarks)
//   quit
#pragma once

#include <imgui.h>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "client/app/app_state.h"
#include "client/ui/widgets.h"

namespace outpost::ui {

class ScriptError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ScriptStep {
  enum class Kind { Click, See, Type, Wait, Screenshot, Scroll, Mark, Quit };
  Kind kind = Kind::Quit;
  std::string argument;
  std::chrono::milliseconds timeout{0};
  int frames = 0;  // scroll: wheel notches, one a frame
  int line = 0;  // in the script file; 0 for generated steps
};

class Script {
 public:
  // Throws ScriptError naming `source`, the line and what is wrong with it.
  static Script parse(const std::string& text, const std::string& source);
  // Every screen of the registry in turn, each saved as DIRECTORY/NAME.png, then quit.
  static Script screenshot_tour(const std::string& directory);

  const std::vector<ScriptStep>& steps() const { return steps_; }
  const std::string& source() const { return source_; }

 private:
  std::string source_;
  std::vector<ScriptStep> steps_;
};

class ScriptDriver {
 public:
  using Clock = std::chrono::steady_clock;

  explicit ScriptDriver(Script script);

  // Between the platform backend's NewFrame and ImGui::NewFrame: this frame's pointer, buttons
  // and typed characters. `last_frame` is the item log of the frame drawn before.
  void before_frame(ImGuiIO& io, const ItemLog& last_frame, const app::AppState& state, Clock::time_point now);
  // The file the frame about to be drawn should be saved to; asking clears it.
  std::optional<std::string> take_screenshot();
  // The text of a mark step reached before this frame; asking clears it.
  std::optional<std::string> take_mark();

  bool done() const { return done_; }
  // Set (and done) when a step could not be carried out: which, and why.
  const std::optional<std::string>& failure() const { return failure_; }

 private:
  void advance(Clock::time_point now);
  void fail(const std::string& why, const app::AppState& state, const ItemLog& last_frame);
  bool condition_met(const app::AppState& state);

  Script script_;
  size_t step_ = 0;
  int phase_ = 0;        // progress within the step
  int settle_ = 0;       // frames to let pass before the next phase
  Clock::time_point step_started_;
  ImVec2 pointer_{-FLT_MAX, -FLT_MAX};
  uint64_t syncs_before_action_ = 0;  // syncs finished when the last click or typing happened
  uint64_t seen_version_ = 0;
  int stable_frames_ = 0;
  int scrolled_frames_ = 0;
  std::optional<std::string> screenshot_;
  std::optional<std::string> mark_;
  bool done_ = false;
  std::optional<std::string> failure_;
};

}  // namespace outpost::ui
