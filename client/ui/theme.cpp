#include "client/ui/theme.h"

#include <fontconfig/fontconfig.h>

#include <algorithm>
#include <cstdio>
#include <memory>

#include "client/ui/font_cache.h"
#include "platform/crypto.h"
#include "platform/files.h"
#include "platform/log.h"

namespace outpost::ui {

namespace {

constexpr float kBodyPixels = 17.0f;
constexpr float kHeadingPixels = 22.0f;
constexpr float kReferenceDpi = 96.0f;
constexpr int kSmallestScaledHeight = 480;

// Every character the interface and the data are expected to need: Latin with its extensions
// (Vietnamese included), Greek, Cyrillic, and typographic punctuation. Built once; the atlas
// keeps pointing at it.
const ImWchar* glyph_ranges(ImFontAtlas& atlas) {
  static const ImVector<ImWchar> ranges = [&atlas] {
    static const ImWchar extra[] = {
        0x0100, 0x024F,  // Latin Extended-A and -B
        0x0370, 0x03FF,  // Greek and Coptic
        0x1E00, 0x1EFF,  // Latin Extended Additional
        0x2000, 0x206F,  // General Punctuation: dashes, quotes, ellipsis, bullet
        0x20A0, 0x20CF,  // currency signs
        0,
    };
    ImFontGlyphRangesBuilder builder;
    builder.AddRanges(atlas.GetGlyphRangesDefault());
    builder.AddRanges(atlas.GetGlyphRangesVietnamese());
    builder.AddRanges(atlas.GetGlyphRangesCyrillic());
    builder.AddRanges(extra);
    ImVector<ImWchar> built;
    builder.BuildRanges(&built);
    return built;
  }();
  return ranges.Data;
}

ImFontConfig font_config() {
  ImFontConfig config;
  // One horizontal sample and whole-pixel glyphs: a quarter of the default atlas, and crisp.
  config.OversampleH = 1;
  config.PixelSnapH = true;
  return config;
}

ImFont* add_font(ImFontAtlas& atlas, const std::optional<std::string>& file, float pixels) {
  ImFontConfig config = font_config();
  if (!file) {
    config.SizePixels = pixels;
    return atlas.AddFontDefault(&config);
  }
  return atlas.AddFontFromFileTTF(file->c_str(), pixels, &config, glyph_ranges(atlas));
}

// All that shapes the atlas besides the font files: a kept atlas is for this request only.
std::string atlas_request(ImFontAtlas& atlas, float body_pixels, float heading_pixels) {
  const ImFontConfig config = font_config();
  char text[256];
  std::snprintf(text, sizeof text,
                "Dear ImGui %d, ImWchar %zu; Noto Sans Regular %.3f, Noto Sans Bold %.3f; oversampling %dx%d%s; "
                "atlas width %d, padding %d, flags %d; ranges",
                IMGUI_VERSION_NUM, sizeof(ImWchar), static_cast<double>(body_pixels), static_cast<double>(heading_pixels),
                config.OversampleH, config.OversampleV, config.PixelSnapH ? ", pixel-snapped" : "", atlas.TexDesiredWidth,
                atlas.TexGlyphPadding, atlas.Flags);
  std::string request = text;
  for (const ImWchar* range = glyph_ranges(atlas); *range; ++range) request += " " + std::to_string(*range);
  return request;
}

}  // namespace

float dpi_scale_for(float dpi, int window_height) {
  if (!(dpi > 0)) return 1.0f;  // unknown (some X servers report nothing useful)
  const float limit = std::max(1.0f, static_cast<float>(window_height) / kSmallestScaledHeight);
  return std::clamp(dpi / kReferenceDpi, 1.0f, std::min(3.0f, limit));
}

bool is_small_screen(int width, int height) { return width < 720 || height < 560; }

std::optional<std::string> find_font_file(const char* pattern_text, const char* family) {
  // Loading fontconfig's configuration and caches is most of the cost: once per process.
  static const std::unique_ptr<FcConfig, decltype(&FcConfigDestroy)> loaded(FcInitLoadConfigAndFonts(),
                                                                            FcConfigDestroy);
  FcConfig* config = loaded.get();
  if (!config) return std::nullopt;
  std::unique_ptr<FcPattern, decltype(&FcPatternDestroy)> pattern(
      FcNameParse(reinterpret_cast<const FcChar8*>(pattern_text)), FcPatternDestroy);
  if (!pattern) return std::nullopt;
  FcConfigSubstitute(config, pattern.get(), FcMatchPattern);
  FcDefaultSubstitute(pattern.get());
  FcResult result = FcResultNoMatch;
  std::unique_ptr<FcPattern, decltype(&FcPatternDestroy)> match(FcFontMatch(config, pattern.get(), &result),
                                                                  FcPatternDestroy);
  if (!match || result != FcResultMatch) return std::nullopt;
  // fontconfig always offers its nearest font; only the family asked for has the coverage and
  // metrics the interface was laid out with.
  FcChar8* matched_family = nullptr;
  FcChar8* file = nullptr;
  if (FcPatternGetString(match.get(), FC_FAMILY, 0, &matched_family) != FcResultMatch ||
      std::string(reinterpret_cast<const char*>(matched_family)) != family ||
      FcPatternGetString(match.get(), FC_FILE, 0, &file) != FcResultMatch)
    return std::nullopt;
  std::string path = reinterpret_cast<const char*>(file);
  if (!files::exists(path)) return std::nullopt;
  return path;
}

Fonts load_fonts(ImFontAtlas& atlas, const Appearance& appearance, const std::string& cache_directory) {
  const float scale = appearance.scale();
  const float body_pixels = kBodyPixels * scale;
  const float heading_pixels = kHeadingPixels * scale;
  // A kept atlas needs neither fontconfig nor the fonts: it names the files it was built from.
  const std::string request = atlas_request(atlas, body_pixels, heading_pixels);
  const std::string cache_file =
      cache_directory.empty() ? "" : cache_directory + "/fonts-" + crypto::sha256_hex(request).substr(0, 16) + ".atlas";
  if (!cache_file.empty())
    if (const auto files = load_font_atlas(cache_file, request, atlas))
      return Fonts{atlas.Fonts[0], atlas.Fonts[1], files->front()};

  static const std::optional<std::string> regular = find_font_file("Noto Sans:style=Regular", "Noto Sans");
  static const std::optional<std::string> bold = find_font_file("Noto Sans:style=Bold", "Noto Sans");
  static bool reported = false;
  if (!regular && !reported) {
    log::warn("Noto Sans not found through fontconfig (Debian package fonts-noto-core): using the built-in font, "
              "which shows only basic Latin letters");
    reported = true;
  }

  atlas.Clear();
  Fonts fonts;
  fonts.body = add_font(atlas, regular, body_pixels);
  fonts.heading = add_font(atlas, bold ? bold : regular, heading_pixels);
  fonts.file = regular.value_or("");
  if (!cache_file.empty() && regular) {
    atlas.Build();
    try {
      save_font_atlas(cache_file, atlas, {request, {*regular, bold.value_or(*regular)}});
    } catch (const std::exception& error) {
      log::info(std::string("the fonts will be built again at the next start: ") + error.what());
    }
  }
  return fonts;
}

const Palette& palette() {
  static const Palette colors{
      ImVec4(0.11f, 0.37f, 0.65f, 1.0f),  // accent: a blue that holds up in sunlight
      ImVec4(0.15f, 0.45f, 0.77f, 1.0f),
      ImVec4(0.08f, 0.29f, 0.52f, 1.0f),
      ImVec4(1.0f, 1.0f, 1.0f, 1.0f),
      ImVec4(0.10f, 0.52f, 0.24f, 1.0f),  // ok
      ImVec4(0.72f, 0.45f, 0.0f, 1.0f),   // warning
      ImVec4(0.75f, 0.13f, 0.13f, 1.0f),  // danger
  };
  return colors;
}

void apply_style(ImGuiStyle& style, const Appearance& appearance) {
  style = ImGuiStyle();  // ScaleAllSizes multiplies what is there: start from the defaults each time
  ImGui::StyleColorsLight(&style);
  style.WindowRounding = 0.0f;
  style.ChildRounding = 6.0f;
  style.FrameRounding = 5.0f;
  style.GrabRounding = 5.0f;
  style.WindowPadding = ImVec2(14, 12);
  style.FramePadding = ImVec2(10, 7);
  style.ItemSpacing = ImVec2(10, 8);
  style.ItemInnerSpacing = ImVec2(8, 6);
  style.CellPadding = ImVec2(8, 5);
  style.ScrollbarSize = 16.0f;
  style.GrabMinSize = 14.0f;
  style.FrameBorderSize = 1.0f;  // fields stand out from the white panes they sit on
  style.SelectableTextAlign = ImVec2(0.0f, 0.5f);
  if (appearance.touch) {
    style.FramePadding = ImVec2(14, 12);
    style.ItemSpacing = ImVec2(12, 12);
    style.CellPadding = ImVec2(8, 10);
    style.ScrollbarSize = 28.0f;
    style.GrabMinSize = 28.0f;
    style.TouchExtraPadding = ImVec2(4, 4);
  }
  if (appearance.square_corners) {
    style.ChildRounding = 0.0f;
    style.FrameRounding = 0.0f;
    style.GrabRounding = 0.0f;
    style.PopupRounding = 0.0f;
    style.ScrollbarRounding = 0.0f;
    style.TabRounding = 0.0f;
  }
  ImVec4* colors = style.Colors;
  colors[ImGuiCol_WindowBg] = ImVec4(0.97f, 0.97f, 0.96f, 1.0f);
  colors[ImGuiCol_ChildBg] = ImVec4(1.0f, 1.0f, 1.0f, 1.0f);
  colors[ImGuiCol_Text] = ImVec4(0.08f, 0.08f, 0.10f, 1.0f);
  colors[ImGuiCol_TextDisabled] = ImVec4(0.38f, 0.38f, 0.42f, 1.0f);
  colors[ImGuiCol_FrameBg] = ImVec4(0.95f, 0.95f, 0.96f, 1.0f);
  colors[ImGuiCol_Border] = ImVec4(0.72f, 0.74f, 0.78f, 1.0f);
  colors[ImGuiCol_Button] = ImVec4(0.86f, 0.88f, 0.91f, 1.0f);
  colors[ImGuiCol_ButtonHovered] = ImVec4(0.78f, 0.83f, 0.90f, 1.0f);
  colors[ImGuiCol_ButtonActive] = ImVec4(0.68f, 0.76f, 0.87f, 1.0f);
  colors[ImGuiCol_Header] = ImVec4(0.80f, 0.86f, 0.94f, 1.0f);
  colors[ImGuiCol_HeaderHovered] = ImVec4(0.86f, 0.90f, 0.96f, 1.0f);
  colors[ImGuiCol_HeaderActive] = ImVec4(0.72f, 0.80f, 0.92f, 1.0f);
  colors[ImGuiCol_PlotHistogram] = palette().accent;
  style.ScaleAllSizes(appearance.scale());
}

}  // namespace outpost::ui
