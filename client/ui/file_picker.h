// A small file browser for answering image and file questions: the folders and files of one
// folder (folders first, each file with its size), a way up, and a field to type or paste a
// path. A folder is read when the person opens it, not every frame; the chosen file itself is
// read and copied by the worker (app::AttachFile).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace outpost::ui {

struct FilePicker {
  struct Entry {
    std::string name;
    bool folder = false;
    uint64_t size = 0;
  };
  std::string folder;  // the one listed; empty until the picker first shows (then: the home folder)
  std::vector<Entry> entries;
  std::string listing_error;  // why `folder` could not be read
  std::string typed;          // a path typed or pasted
  bool reveal = true;         // scroll the page to show the whole picker (set as it opens)
};

// Reads `folder` into the picker: its entries sorted, folders first, hidden ones left out.
void open_folder(FilePicker& picker, const std::string& folder);

// Draws the picker; its controls are named NAME.up, NAME.entry.FILE, NAME.path, NAME.use.
// Returns the chosen file's path on the frame it is chosen.
std::optional<std::string> file_picker(FilePicker& picker, std::string_view name);

}  // namespace outpost::ui
