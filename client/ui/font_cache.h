// The built font atlas, kept on disk between starts. Building it asks fontconfig for the fonts,
// reads them and rasterises about 1,600 letters per face: 40 to 50 ms of CPU on a laptop, several
// times that on a Raspberry Pi, at every start and on the way to the first frame. The atlas as
// Dear ImGui built it (its pixels, glyphs, metrics and the positions of its built-in shapes) is
// written once per appearance and read back while the font files are unchanged.
#pragma once

#include <imgui.h>

#include <optional>
#include <string>
#include <vector>

namespace outpost::ui {

// What an atlas is built from. `request` names all that shapes it besides the files' contents
// (sizes, glyph ranges, build options, Dear ImGui's version); atlas.Fonts[i] comes from files[i].
struct AtlasSource {
  std::string request;
  std::vector<std::string> files;
};

// Writes the built `atlas` to `path` (atomically, creating its directory). Throws
// std::runtime_error when it cannot, or when the atlas is not built.
void save_font_atlas(const std::string& path, const ImFontAtlas& atlas, const AtlasSource& source);

// Refills `atlas` from `path`, built, when the file was written for `request` and each font file
// still has the size and modification time it had then; returns those files. Otherwise nullopt
// and the atlas cleared: no file, another request, a changed font, a damaged or foreign file.
std::optional<std::vector<std::string>> load_font_atlas(const std::string& path, const std::string& request,
                                                        ImFontAtlas& atlas);

}  // namespace outpost::ui
