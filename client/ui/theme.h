// How the window looks: the Noto Sans font found through fontconfig, sizes scaled by the
// display's DPI and the user's text size, bigger targets on small (touch) screens, and colours
// that stay readable outdoors.
#pragma once

#include <imgui.h>

#include <optional>
#include <string>

namespace outpost::ui {

struct Appearance {
  float dpi_scale = 1.0f;   // the display's DPI over 96, see dpi_scale_for()
  float text_scale = 1.0f;  // the user's text size
  bool touch = false;       // a small screen, likely a touch screen: bigger targets
  // Nothing rounded: for a renderer that fills rectangles quickly but rasterises the triangles of
  // a rounded corner pixel by pixel (Renderer::prefers_square_corners).
  bool square_corners = false;
  float scale() const { return dpi_scale * text_scale; }
  bool operator==(const Appearance& other) const {
    return dpi_scale == other.dpi_scale && text_scale == other.text_scale && touch == other.touch &&
           square_corners == other.square_corners;
  }
};

// The scale for a display of `dpi` showing a window `window_height` pixels high: DPI/96, but
// never so large that fewer than 480 scaled pixels remain (a 5-inch 800x480 screen is dense,
// and there the user raises the text size instead).
float dpi_scale_for(float dpi, int window_height);
// Small windows get touch-friendly sizes.
bool is_small_screen(int width, int height);

struct Fonts {
  ImFont* body = nullptr;
  ImFont* heading = nullptr;
  std::string file;  // the body font's file; empty for Dear ImGui's built-in font
};

// Refills `atlas` for `appearance`: Noto Sans with Latin (and its extensions, Vietnamese
// included), Cyrillic and Greek; the built-in font, with a logged warning, when fontconfig finds
// no Noto Sans. With a `cache_directory`, the atlas comes built, from there when it was kept for
// this appearance and the font files are unchanged (font_cache.h), and is kept there otherwise.
// Without, the caller builds the atlas (and hands it to the renderer).
Fonts load_fonts(ImFontAtlas& atlas, const Appearance& appearance, const std::string& cache_directory = {});
// The file fontconfig matches for `pattern` ("Noto Sans:style=Bold"), when its family is `family`.
std::optional<std::string> find_font_file(const char* pattern, const char* family);

void apply_style(ImGuiStyle& style, const Appearance& appearance);

struct Palette {
  ImVec4 accent, accent_hovered, accent_active, on_accent;
  ImVec4 ok, warning, danger;
};
const Palette& palette();

}  // namespace outpost::ui
