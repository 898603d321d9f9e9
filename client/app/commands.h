// What screens ask of the model. A frame collects them; the worker applies them after it.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "client/app/app_state.h"

namespace outpost::app {


struct SyncNow {};

struct Enroll {
  std::string registry_url;  // typed or pasted; surrounding blanks are ignored
  std::string code;
};

enum class Resolution { KeepKept, KeepLost, Merged };

struct ResolveConflict {
  std::string conflict_id;
  Resolution resolution = Resolution::KeepKept;
  std::string merged_json;  // with Resolution::Merged: the value to keep, as JSON text
};

// Shows a collection's records [first, first + count), newest first (AppState::records); the
// list asks again as it scrolls.
struct OpenCollection {
  std::string collection;
  int64_t first = 0;
  int64_t count = kListWindow;
};

struct SelectRecord {
  std::string collection;
  std::string id;
};

struct SetLanguage {
  std::string language;  // empty: follow the system
};

struct SetTextScale {
  double scale = 1.0;
};

// Counts the records and bytes of every collection (AppState::storage): a read of every record.
struct MeasureStorage {};

// The library: the screen sends the filter once the typing pauses, and its rows
// [first, first + count) as the list scrolls.
struct SearchLibrary {
  LibraryFilter filter;
  int64_t first = 0;
  int64_t count = kListWindow;
};

struct PinMaterial {  // download (resuming) and keep
  std::string material_id;
};

struct UnpinMaterial {  // no longer kept on purpose; the file stays until evicted
  std::string material_id;
};

struct EvictMaterial {  // delete the file from this device
  std::string material_id;
};

// Markdown and text open in the reader; other files in the system's viewer.
struct OpenMaterial {
  std::string material_id;
};

struct CloseReader {};

// Forms: filled one page at a time on the worker.
struct ListForms {
  int64_t first = 0;  // the submissions' rows [first, first + count), newest first
  int64_t count = kListWindow;
};

struct StartSubmission {
  std::string form_id;
  std::string ui_language;  // the form's labels follow it when the form has it
};

// Opens a draft from the list where it was left, on its first page.
struct ReopenSubmission {
  std::string submission_id;
  std::string ui_language;
};

struct SetAnswer {
  std::string name;
  forms::RepeatPath path;
  std::string text;
};

// Answers an image or file question with a file on this computer, copied into the device's store.
struct AttachFile {
  std::string name;
  forms::RepeatPath path;
  std::string file;
};

// Lists a folder of this computer for the file browser, on the worker: a slow memory card or a
// folder of thousands of photos must not hold up the window.
struct ListFolder {
  std::string folder;
};

struct AddRepeatEntry {
  std::string name;
  forms::RepeatPath path;  // of the enclosing repeats' entries
};

struct RemoveRepeatEntry {
  std::string name;
  forms::RepeatPath path;
  size_t index = 0;
};

struct GoToPage {  // saves the draft
  size_t page = 0;
};

struct FinalizeSubmission {};
struct CloseSubmission {};  // saves the draft and closes it

using Command = std::variant<SyncNow, Enroll, ResolveConflict, OpenCollection, SelectRecord, SetLanguage, SetTextScale,
                             MeasureStorage, SearchLibrary, PinMaterial, UnpinMaterial, EvictMaterial, OpenMaterial,
                             CloseReader, ListForms, StartSubmission, ReopenSubmission, SetAnswer, AttachFile,
                             ListFolder, AddRepeatEntry, RemoveRepeatEntry, GoToPage, FinalizeSubmission,
                             CloseSubmission>;
using Commands = std::vector<Command>;

// The text sizes offered in the settings (1 = the display's natural size).
inline constexpr double kTextScales[] = {0.85, 1.0, 1.25, 1.5, 2.0};

}  // namespace outpost::app
