// A small file browser for answering image and file questions: the folders and files of one
// folder (folders first, each file with its size), a way up, and a field to type or paste a
// path. The worker reads a folder when the person opens it (app::ListFolder) and copies the
// chosen file (app::AttachFile); the browser draws what it was told.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace outpost::ui {

struct Frame;

struct FilePicker {
  std::string folder;  // the one shown; empty until the picker first shows (then: the home folder)
  std::string asked;   // the folder last asked of the worker
  std::string typed;   // a path typed or pasted
  bool reveal = true;  // scroll the page to show the whole picker (set as it opens)
};

// Draws the picker; its controls are named NAME.up, NAME.entry.FILE, NAME.path, NAME.use. Asks
// for the folder's listing (app::ListFolder) until the state has it. Returns the chosen file's
// path on the frame it is chosen.
std::optional<std::string> file_picker(Frame& frame, FilePicker& picker, std::string_view name);

}  // namespace outpost::ui
