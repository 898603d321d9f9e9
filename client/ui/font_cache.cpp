#include "client/ui/font_cache.h"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string_view>
#include <type_traits>

#include "platform/compress.h"
#include "platform/files.h"
#include "platform/log.h"

namespace outpost::ui {

namespace {

// The file: "OPFA", the format, then zstd of the fields below in the machine's own byte order
// (a cache never leaves the machine; kByteOrder turns away one that did).
constexpr char kMagic[4] = {'O', 'P', 'F', 'A'};
constexpr uint32_t kFormat = 1;
constexpr uint32_t kByteOrder = 0x01020304;
constexpr size_t kMaxAtlasBytes = 64u << 20;  // a 4096x4096 atlas and its glyphs fit well within
constexpr size_t kGlyphBytes = sizeof(uint32_t) + 9 * sizeof(float);  // as put_font writes one
constexpr size_t kRectBytes = 4 * sizeof(unsigned short) + sizeof(unsigned int) + 3 * sizeof(float);

// --- Fields in and out

class Writer {
 public:
  template <typename Value>
  void put(const Value& value) {
    static_assert(std::is_trivially_copyable_v<Value>);
    bytes_.append(reinterpret_cast<const char*>(&value), sizeof value);
  }
  void put_text(std::string_view text) {
    put(static_cast<uint32_t>(text.size()));
    bytes_.append(text);
  }
  void put_bytes(const void* data, size_t size) { bytes_.append(static_cast<const char*>(data), size); }
  // The fields one of the field lists below names, in its order (Reader reads them back).
  template <typename... Values>
  void operator()(const Values&... values) {
    (put(values), ...);
  }
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

// Reads what Writer wrote; throws std::runtime_error past the end.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : rest_(bytes) {}
  template <typename Value>
  void read(Value& value) {
    static_assert(std::is_trivially_copyable_v<Value>);
    std::memcpy(&value, take(sizeof value).data(), sizeof value);
  }
  template <typename Value>
  Value get() {
    Value value;
    read(value);
    return value;
  }
  template <typename... Values>
  void operator()(Values&... values) {
    (read(values), ...);
  }
  std::string get_text() { return std::string(take(get<uint32_t>())); }
  std::string_view take(size_t size) {
    if (size > rest_.size()) throw std::runtime_error("it ends early");
    const std::string_view taken = rest_.substr(0, size);
    rest_.remove_prefix(size);
    return taken;
  }
  bool at_end() const { return rest_.empty(); }
  // A count read from the file, checked against what is left before anything is allocated for it.
  uint32_t get_count(size_t item_bytes) {
    const uint32_t count = get<uint32_t>();
    if (count > rest_.size() / item_bytes) throw std::runtime_error("it lists more than it holds");
    return count;
  }

 private:
  std::string_view rest_;
};

// A font file as it was when the atlas was built.
struct FileStamp {
  uint64_t size = 0;
  int64_t modified = 0;  // the file clock's ticks
};

std::optional<FileStamp> stamp_of(const std::string& path) {
  std::error_code error;
  const uintmax_t size = std::filesystem::file_size(path, error);
  if (error) return std::nullopt;
  const auto modified = std::filesystem::last_write_time(path, error);
  if (error) return std::nullopt;
  return FileStamp{size, static_cast<int64_t>(modified.time_since_epoch().count())};
}

bool unchanged(const std::string& file, const FileStamp& then) {
  const std::optional<FileStamp> now = stamp_of(file);
  return now && now->size == then.size && now->modified == then.modified;
}

// --- Atlas and fonts
// Each field list serves both ways: with a Writer over the built atlas, with a Reader into a new one.

template <typename Fields, typename Font>
void font_fields(Fields& fields, Font& font) {
  fields(font.FontSize, font.Ascent, font.Descent, font.Scale, font.MetricsTotalSurface, font.FallbackChar,
         font.EllipsisChar, font.DotChar);
}

// A glyph's corners, texture coordinates and advance; its code point and flags are bit fields.
template <typename Fields, typename Glyph>
void glyph_fields(Fields& fields, Glyph& glyph) {
  fields(glyph.AdvanceX, glyph.X0, glyph.Y0, glyph.X1, glyph.Y1, glyph.U0, glyph.V0, glyph.U1, glyph.V1);
}

// The white pixel, the baked lines and the mouse cursors Dear ImGui draws into every atlas.
template <typename Fields, typename Atlas>
void atlas_fields(Fields& fields, Atlas& atlas) {
  fields(atlas.TexWidth, atlas.TexHeight, atlas.TexUvWhitePixel, atlas.TexUvLines, atlas.PackIdMouseCursors,
         atlas.PackIdLines);
}

template <typename Fields, typename Rect>
void rect_fields(Fields& fields, Rect& rect) {
  fields(rect.Width, rect.Height, rect.X, rect.Y, rect.GlyphID, rect.GlyphAdvanceX, rect.GlyphOffset);
}

constexpr uint32_t kColored = 1u << 30;
constexpr uint32_t kVisible = 1u << 31;

void put_font(Writer& out, const ImFont& font) {
  font_fields(out, font);
  out.put(static_cast<uint32_t>(font.Glyphs.Size));
  for (const ImFontGlyph& glyph : font.Glyphs) {
    out.put(static_cast<uint32_t>(glyph.Codepoint) | (glyph.Colored ? kColored : 0) | (glyph.Visible ? kVisible : 0));
    glyph_fields(out, glyph);
  }
}

// Reads a font into `font` (new, in its atlas), then builds its look-up tables as Dear ImGui's
// own build does last: from the same glyphs they come out the same.
void get_font(Reader& in, ImFont& font) {
  font_fields(in, font);
  font.Glyphs.resize(static_cast<int>(in.get_count(kGlyphBytes)));
  for (ImFontGlyph& glyph : font.Glyphs) {
    const uint32_t packed = in.get<uint32_t>();
    glyph.Codepoint = packed & (kColored - 1);
    glyph.Colored = (packed & kColored) != 0;
    glyph.Visible = (packed & kVisible) != 0;
    glyph_fields(in, glyph);
  }
  font.BuildLookupTable();
}

void put_atlas(Writer& out, const ImFontAtlas& atlas) {
  atlas_fields(out, atlas);
  out.put(static_cast<uint32_t>(atlas.CustomRects.Size));
  for (const ImFontAtlasCustomRect& rect : atlas.CustomRects) {
    if (rect.Font) throw std::runtime_error("the atlas has glyphs of its own drawing");
    rect_fields(out, rect);
  }
  out.put(static_cast<uint32_t>(atlas.Fonts.Size));
  for (const ImFont* font : atlas.Fonts) put_font(out, *font);
  out.put_bytes(atlas.TexPixelsAlpha8, static_cast<size_t>(atlas.TexWidth) * static_cast<size_t>(atlas.TexHeight));
}

// Fills the cleared `atlas`; `names` label its fonts (Dear ImGui shows them in its tools).
void get_atlas(Reader& in, ImFontAtlas& atlas, const std::vector<std::string>& names) {
  atlas_fields(in, atlas);
  const int width = atlas.TexWidth;
  const int height = atlas.TexHeight;
  if (width <= 0 || height <= 0 || width > 16384 || height > 16384) throw std::runtime_error("its size is wrong");
  atlas.TexUvScale = ImVec2(1.0f / static_cast<float>(width), 1.0f / static_cast<float>(height));
  atlas.CustomRects.resize(static_cast<int>(in.get_count(kRectBytes)));
  for (ImFontAtlasCustomRect& rect : atlas.CustomRects) {
    rect = ImFontAtlasCustomRect();
    rect_fields(in, rect);
  }
  if (in.get<uint32_t>() != names.size()) throw std::runtime_error("it holds another number of fonts");
  // Every font points at its configuration in atlas.ConfigData: all of them are in place first.
  for (const std::string& name : names) {
    ImFontConfig config;
    config.FontDataOwnedByAtlas = false;  // no font data: the atlas is built
    std::snprintf(config.Name, sizeof config.Name, "%s", name.c_str());
    atlas.ConfigData.push_back(config);
  }
  for (int index = 0; index < static_cast<int>(names.size()); ++index) {
    ImFont* font = IM_NEW(ImFont)();
    atlas.Fonts.push_back(font);
    font->ContainerAtlas = &atlas;
    font->ConfigData = &atlas.ConfigData[index];
    font->ConfigDataCount = 1;
    get_font(in, *font);
    atlas.ConfigData[index].SizePixels = font->FontSize;
  }
  const std::string_view pixels = in.take(static_cast<size_t>(width) * static_cast<size_t>(height));
  if (!in.at_end()) throw std::runtime_error("it goes on past the atlas");
  atlas.TexPixelsAlpha8 = static_cast<unsigned char*>(IM_ALLOC(pixels.size()));
  std::memcpy(atlas.TexPixelsAlpha8, pixels.data(), pixels.size());
  atlas.TexReady = true;
}

}  // namespace

// --- Saving and loading

void save_font_atlas(const std::string& path, const ImFontAtlas& atlas, const AtlasSource& source) {
  if (!atlas.TexReady || !atlas.TexPixelsAlpha8 || atlas.Fonts.Size != static_cast<int>(source.files.size()))
    throw std::runtime_error("cannot keep the font atlas in " + path + ": it is not built from those files");
  Writer fields;
  fields.put(kByteOrder);
  fields.put_text(source.request);
  fields.put(static_cast<uint32_t>(source.files.size()));
  for (const std::string& file : source.files) {
    const std::optional<FileStamp> stamp = stamp_of(file);
    if (!stamp) throw std::runtime_error("cannot keep the font atlas: cannot read " + file);
    fields.put_text(file);
    fields.put(*stamp);
  }
  put_atlas(fields, atlas);
  std::string content(kMagic, sizeof kMagic);
  content.append(reinterpret_cast<const char*>(&kFormat), sizeof kFormat);
  content += compress::zstd_compress(fields.bytes());
  files::ensure_directory(std::filesystem::path(path).parent_path().string());
  files::write_file_atomic(path, content);
}

std::optional<std::vector<std::string>> load_font_atlas(const std::string& path, const std::string& request,
                                                        ImFontAtlas& atlas) {
  atlas.Clear();
  std::string content;
  try {
    content = files::read_file(path);
  } catch (const std::exception&) {
    return std::nullopt;  // none yet
  }
  try {
    Reader head(content);
    if (head.take(sizeof kMagic) != std::string_view(kMagic, sizeof kMagic) || head.get<uint32_t>() != kFormat)
      throw std::runtime_error("it is not a font atlas of this version");
    const std::string fields = compress::zstd_decompress(std::string_view(content).substr(sizeof kMagic + sizeof kFormat), kMaxAtlasBytes);
    Reader in(fields);
    if (in.get<uint32_t>() != kByteOrder) throw std::runtime_error("it was written on another kind of machine");
    if (in.get_text() != request) return std::nullopt;  // another appearance or build (not expected: named by it)
    std::vector<std::string> files(in.get_count(sizeof(uint32_t) + sizeof(FileStamp)));
    for (std::string& file : files) {
      file = in.get_text();
      if (!unchanged(file, in.get<FileStamp>())) {
        log::debug("font atlas " + path + ": " + file + " changed or went; building the atlas again");
        return std::nullopt;
      }
    }
    get_atlas(in, atlas, files);
    return files;
  } catch (const std::exception& error) {
    atlas.Clear();
    log::warn("font atlas " + path + " is unusable (" + error.what() + "); building the atlas again");
    return std::nullopt;
  }
}

}  // namespace outpost::ui
