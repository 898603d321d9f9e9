#include "client/ui/file_picker.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "client/app/i18n.h"
#include "client/app/text.h"
#include "client/ui/screens.h"
#include "client/ui/theme.h"
#include "client/ui/widgets.h"

namespace outpost::ui {

namespace fs = std::filesystem;
using app::tr;

std::optional<std::string> file_picker(Frame& frame, FilePicker& picker, std::string_view name) {
  if (picker.folder.empty()) {
    const char* home = std::getenv("HOME");
    picker.folder = home != nullptr && *home != '\0' ? home : "/";
  }
  auto open = [&](const std::string& path) {
    picker.folder = path;
    if (picker.asked == path) return;
    frame.emit(app::ListFolder{path});
    picker.asked = path;
  };
  open(picker.folder);
  const app::FolderListing* listing =
      frame.state.folder && frame.state.folder->folder == picker.folder ? frame.state.folder.get() : nullptr;
  const std::string prefix(name);
  std::optional<std::string> chosen;
  const fs::path folder(picker.folder);
  if (button(tr("files.up"), prefix + ".up", folder.has_parent_path() && folder != folder.root_path()))
    open(folder.parent_path().string());
  ImGui::SameLine();
  muted_text(folder.string());
  if (!listing) {
    muted_text(tr("app.loading"));
  } else if (!listing->error.empty()) {
    colored_text(palette().danger, tr("files.cannot_list"));
    muted_text(listing->error);
  }
  const size_t count = listing ? listing->entries.size() : 0;
  const float rows = std::min<float>(8.0f, static_cast<float>(std::max<size_t>(count, 1)));
  const ImVec2 list_size(0, ImGui::GetTextLineHeightWithSpacing() * (rows + 0.5f));
  const bool shown = ImGui::BeginChild((prefix + ".list").c_str(), list_size, true);
  for (size_t index = 0; shown && index < count; ++index) {
    const app::FolderListing::Entry& entry = listing->entries[index];
    const std::string size = "  (" + app::format_bytes(static_cast<int64_t>(entry.size)) + ")";
    const std::string text = entry.folder ? entry.name + "/" : entry.name + size;
    if (selectable(text, prefix + ".entry." + entry.name, false)) {
      const std::string path = (folder / entry.name).string();
      if (entry.folder)
        open(path);  // shown once the worker has read it
      else
        chosen = path;
    }
  }
  ImGui::EndChild();

  const float use_width = ImGui::CalcTextSize(tr("files.use_path")).x + ImGui::GetStyle().FramePadding.x * 4;
  input_text(tr("files.path"), prefix + ".path", picker.typed, "/path/to/the/file", use_width);
  ImGui::SameLine();
  if (button(tr("files.use_path"), prefix + ".use", !picker.typed.empty())) chosen = picker.typed;
  if (picker.reveal) {
    ImGui::SetScrollHereY(1.0f);
    picker.reveal = false;
  }
  return chosen;
}

}  // namespace outpost::ui
