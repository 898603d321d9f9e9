#include "client/renderer.h"

#include <SDL_opengl.h>
#include <imgui.h>
#include <imgui_impl_opengl3.h>
#include <imgui_impl_sdl.h>
#include <imgui_impl_sdlrenderer.h>

#include <algorithm>
#include <filesystem>
#include <iterator>
#include <optional>
#include <stdexcept>

#include "platform/log.h"

namespace outpost::client {

namespace {

constexpr Uint8 kClear[] = {247, 247, 245};  // ImGuiCol_WindowBg (client/ui/theme.cpp): the main window draws none

std::string sdl_error() { return SDL_GetError(); }

// --- OpenGL 3

// The few GL calls made here go through SDL_GL_GetProcAddress, so the program does not link
// libGL: the command line must start on machines without it.
struct GlFunctions {
  void(APIENTRY* Viewport)(GLint, GLint, GLsizei, GLsizei) = nullptr;
  void(APIENTRY* ClearColor)(GLfloat, GLfloat, GLfloat, GLfloat) = nullptr;
  void(APIENTRY* Clear)(GLbitfield) = nullptr;
  void(APIENTRY* ReadPixels)(GLint, GLint, GLsizei, GLsizei, GLenum, GLenum, void*) = nullptr;
  void(APIENTRY* PixelStorei)(GLenum, GLint) = nullptr;
  const GLubyte*(APIENTRY* GetString)(GLenum) = nullptr;

  bool load() {
    return get(Viewport, "glViewport") && get(ClearColor, "glClearColor") && get(Clear, "glClear") &&
           get(ReadPixels, "glReadPixels") && get(PixelStorei, "glPixelStorei") && get(GetString, "glGetString");
  }
  template <typename Function>
  static bool get(Function& function, const char* name) {
    function = reinterpret_cast<Function>(SDL_GL_GetProcAddress(name));
    return function != nullptr;
  }
};

class GlRenderer final : public Renderer {
 public:
  GlRenderer(SDL_Window* window, const std::function<void()>& before_imgui) : window_(window) {
    context_ = SDL_GL_CreateContext(window);
    if (!context_) throw std::runtime_error("no OpenGL 3 context: " + sdl_error());
    SDL_GL_MakeCurrent(window, context_);
    SDL_GL_SetSwapInterval(1);
    if (!gl_.load()) {
      SDL_GL_DeleteContext(context_);
      throw std::runtime_error("the OpenGL library lacks basic functions");
    }
    clear();
    present();
    if (before_imgui) before_imgui();
    ImGui_ImplSDL2_InitForOpenGL(window, context_);
    if (!ImGui_ImplOpenGL3_Init("#version 130")) {
      ImGui_ImplSDL2_Shutdown();
      SDL_GL_DeleteContext(context_);
      throw std::runtime_error("Dear ImGui's OpenGL 3 backend could not start");
    }
    const GLubyte* version = gl_.GetString(GL_VERSION);
    const GLubyte* device = gl_.GetString(GL_RENDERER);
    description_ = std::string("OpenGL ") + (version ? reinterpret_cast<const char*>(version) : "3") + " (" +
                   (device ? reinterpret_cast<const char*>(device) : "unknown device") + ")";
  }
  ~GlRenderer() override {
    ImGui_ImplOpenGL3_Shutdown();
    ImGui_ImplSDL2_Shutdown();
    SDL_GL_DeleteContext(context_);
  }

  std::string description() const override { return description_; }
  void new_frame() override {
    ImGui_ImplOpenGL3_NewFrame();
    ImGui_ImplSDL2_NewFrame();
  }
  void render(ImDrawData* draw_data) override {
    clear();
    ImGui_ImplOpenGL3_RenderDrawData(draw_data);
  }
  void present() override { SDL_GL_SwapWindow(window_); }
  void reload_fonts() override {
    ImGui_ImplOpenGL3_DestroyFontsTexture();
    ImGui_ImplOpenGL3_CreateFontsTexture();
  }
  Image read_pixels() override {
    Image image{width_, height_, std::vector<unsigned char>(static_cast<size_t>(width_) * height_ * 4)};
    gl_.PixelStorei(GL_PACK_ALIGNMENT, 1);
    gl_.ReadPixels(0, 0, width_, height_, GL_RGBA, GL_UNSIGNED_BYTE, image.rgba.data());
    // OpenGL's rows start at the bottom.
    const size_t stride = static_cast<size_t>(width_) * 4;
    for (int top = 0, bottom = height_ - 1; top < bottom; ++top, --bottom)
      std::swap_ranges(image.rgba.begin() + top * stride, image.rgba.begin() + (top + 1) * stride,
                       image.rgba.begin() + bottom * stride);
    return image;
  }

 private:
  void clear() {
    SDL_GL_GetDrawableSize(window_, &width_, &height_);
    gl_.Viewport(0, 0, width_, height_);
    gl_.ClearColor(kClear[0] / 255.0f, kClear[1] / 255.0f, kClear[2] / 255.0f, 1.0f);
    gl_.Clear(GL_COLOR_BUFFER_BIT);
  }

  SDL_Window* window_;
  SDL_GLContext context_ = nullptr;
  GlFunctions gl_;
  std::string description_;
  int width_ = 0;
  int height_ = 0;
};

// --- SDL_Renderer

// An opaque, untextured, axis-aligned rectangle as Dear ImGui draws one (ImDrawList::PrimRect: four
// vertices of one colour on the atlas's white pixel, indexed 0 1 2 0 2 3), starting at `indices`.
std::optional<SDL_FRect> opaque_rectangle(const ImDrawVert* vertices, const ImDrawIdx* indices, ImVec2 white) {
  const ImDrawIdx first = indices[0];
  const ImDrawIdx expected[] = {first, ImDrawIdx(first + 1), ImDrawIdx(first + 2), first, ImDrawIdx(first + 2),
                                ImDrawIdx(first + 3)};
  if (!std::equal(std::begin(expected), std::end(expected), indices)) return std::nullopt;
  const ImDrawVert* corner = vertices + first;
  if ((corner[0].col >> IM_COL32_A_SHIFT) != 0xFF) return std::nullopt;
  for (int i = 0; i < 4; ++i)
    if (corner[i].col != corner[0].col || corner[i].uv.x != white.x || corner[i].uv.y != white.y) return std::nullopt;
  const ImVec2 top_left = corner[0].pos;
  const ImVec2 bottom_right = corner[2].pos;
  if (corner[1].pos.x != bottom_right.x || corner[1].pos.y != top_left.y || corner[3].pos.x != top_left.x ||
      corner[3].pos.y != bottom_right.y || !(bottom_right.x > top_left.x && bottom_right.y > top_left.y))
    return std::nullopt;
  return SDL_FRect{top_left.x, top_left.y, bottom_right.x - top_left.x, bottom_right.y - top_left.y};
}

// SDL 2's software renderer takes Dear ImGui's triangles two by two and draws a pair that forms an
// axis-aligned rectangle as a blit or a fill (SDL_SW_RenderGeometryRaw), but always a blended fill:
// three multiplications per channel and pixel even for an opaque colour, most of a frame's CPU.
// Panes, table rows, headers and buttons are opaque rectangles: they are filled here without
// blending (SDL_FillRect, the speed of memset), which gives the same pixels. Everything else goes
// to SDL_RenderGeometryRaw as Dear ImGui's backend sends it, in the same order.
void render_for_software(SDL_Renderer* renderer, const ImDrawData& draw_data) {
  const ImVec2 white = ImGui::GetIO().Fonts->TexUvWhitePixel;
  // Clip rectangles as Dear ImGui's backend projects them: scaled to the frame buffer unless the
  // renderer scales by itself, and kept inside it.
  float renderer_scale_x = 1.0f;
  float renderer_scale_y = 1.0f;
  SDL_RenderGetScale(renderer, &renderer_scale_x, &renderer_scale_y);
  const ImVec2 scale(renderer_scale_x == 1.0f ? draw_data.FramebufferScale.x : 1.0f,
                     renderer_scale_y == 1.0f ? draw_data.FramebufferScale.y : 1.0f);
  const ImVec2 frame(draw_data.DisplaySize.x * scale.x, draw_data.DisplaySize.y * scale.y);
  const ImVec2 origin = draw_data.DisplayPos;
  SDL_RenderSetViewport(renderer, nullptr);
  for (int list_index = 0; list_index < draw_data.CmdListsCount; ++list_index) {
    const ImDrawList& list = *draw_data.CmdLists[list_index];
    for (const ImDrawCmd& command : list.CmdBuffer) {
      if (command.UserCallback) {
        if (command.UserCallback != ImDrawCallback_ResetRenderState) command.UserCallback(&list, &command);
        continue;
      }
      const ImVec2 clip_min(std::max(0.0f, (command.ClipRect.x - origin.x) * scale.x),
                            std::max(0.0f, (command.ClipRect.y - origin.y) * scale.y));
      const ImVec2 clip_max(std::min(frame.x, (command.ClipRect.z - origin.x) * scale.x),
                            std::min(frame.y, (command.ClipRect.w - origin.y) * scale.y));
      if (clip_max.x <= clip_min.x || clip_max.y <= clip_min.y) continue;
      const SDL_Rect clip{static_cast<int>(clip_min.x), static_cast<int>(clip_min.y),
                          static_cast<int>(clip_max.x - clip_min.x), static_cast<int>(clip_max.y - clip_min.y)};
      SDL_RenderSetClipRect(renderer, &clip);
      const ImDrawVert* vertices = list.VtxBuffer.Data + command.VtxOffset;
      const ImDrawIdx* indices = list.IdxBuffer.Data + command.IdxOffset;
      const int vertex_count = list.VtxBuffer.Size - static_cast<int>(command.VtxOffset);
      const int index_count = static_cast<int>(command.ElemCount);
      int unsent = 0;  // first index not drawn yet
      auto send_triangles = [&](int end) {
        if (end > unsent)
          SDL_RenderGeometryRaw(renderer, static_cast<SDL_Texture*>(command.GetTexID()), &vertices->pos.x,
                                sizeof(ImDrawVert), reinterpret_cast<const SDL_Color*>(&vertices->col),
                                sizeof(ImDrawVert), &vertices->uv.x, sizeof(ImDrawVert), vertex_count, indices + unsent,
                                end - unsent, sizeof(ImDrawIdx));
      };
      for (int at = 0; at + 6 <= index_count;) {
        const std::optional<SDL_FRect> rectangle = opaque_rectangle(vertices, indices + at, white);
        if (!rectangle) {
          at += 3;
          continue;
        }
        send_triangles(at);
        const ImU32 color = vertices[indices[at]].col;
        SDL_SetRenderDrawBlendMode(renderer, SDL_BLENDMODE_NONE);
        SDL_SetRenderDrawColor(renderer, static_cast<Uint8>(color >> IM_COL32_R_SHIFT),
                               static_cast<Uint8>(color >> IM_COL32_G_SHIFT),
                               static_cast<Uint8>(color >> IM_COL32_B_SHIFT), 0xFF);
        SDL_RenderFillRectF(renderer, &*rectangle);
        at += 6;
        unsent = at;
      }
      send_triangles(index_count);
    }
  }
  SDL_RenderSetClipRect(renderer, nullptr);
}

class SdlRenderer final : public Renderer {
 public:
  SdlRenderer(SDL_Window* window, bool software, const std::function<void()>& before_imgui) {
    // SDL would otherwise show a software renderer's pixels through an OpenGL texture where it
    // can (its "texture framebuffer"): on a machine without a GPU that loads Mesa's llvmpipe, tens
    // of megabytes and a rasteriser, to copy a picture. Asked for software, blit it (X11: XShm).
    if (software) SDL_SetHint(SDL_HINT_FRAMEBUFFER_ACCELERATION, "0");
    const Uint32 accelerated = SDL_RENDERER_ACCELERATED | SDL_RENDERER_PRESENTVSYNC;
    const Uint32 only_software = SDL_RENDERER_SOFTWARE;
    renderer_ = SDL_CreateRenderer(window, -1, software ? only_software : accelerated);
    if (!renderer_ && !software) renderer_ = SDL_CreateRenderer(window, -1, only_software);
    if (!renderer_) throw std::runtime_error("cannot draw in the window: " + sdl_error());
    SDL_RendererInfo info{};
    SDL_GetRendererInfo(renderer_, &info);
    software_ = (info.flags & SDL_RENDERER_SOFTWARE) != 0;
    description_ = std::string("SDL_Renderer (") + (info.name ? info.name : "unknown") + ")";
    clear();
    present();
    if (before_imgui) before_imgui();
    ImGui_ImplSDL2_InitForSDLRenderer(window);
    ImGui_ImplSDLRenderer_Init(renderer_);
  }
  ~SdlRenderer() override {
    ImGui_ImplSDLRenderer_Shutdown();
    ImGui_ImplSDL2_Shutdown();
    SDL_DestroyRenderer(renderer_);
  }

  std::string description() const override { return description_; }
  // SDL's software renderer draws a pane with rounded corners as a fan of triangles, pixel by
  // pixel on this thread: 19 ms a frame for the records screen, against 2.5 ms square.
  bool prefers_square_corners() const override { return software_; }
  void new_frame() override {
    ImGui_ImplSDLRenderer_NewFrame();
    ImGui_ImplSDL2_NewFrame();
  }
  void render(ImDrawData* draw_data) override {
    clear();
    if (software_)
      render_for_software(renderer_, *draw_data);
    else
      ImGui_ImplSDLRenderer_RenderDrawData(draw_data);
  }
  void present() override { SDL_RenderPresent(renderer_); }
  void reload_fonts() override {
    ImGui_ImplSDLRenderer_DestroyFontsTexture();
    ImGui_ImplSDLRenderer_CreateFontsTexture();
  }
  Image read_pixels() override {
    Image image;
    SDL_GetRendererOutputSize(renderer_, &image.width, &image.height);
    image.rgba.resize(static_cast<size_t>(image.width) * image.height * 4);
    // ABGR8888 is R, G, B, A in memory order on little-endian machines; RGBA32 names that everywhere.
    if (SDL_RenderReadPixels(renderer_, nullptr, SDL_PIXELFORMAT_RGBA32, image.rgba.data(), image.width * 4) != 0)
      throw std::runtime_error("cannot read the window's pixels: " + sdl_error());
    return image;
  }

 private:
  void clear() {
    SDL_SetRenderDrawColor(renderer_, kClear[0], kClear[1], kClear[2], 255);
    SDL_RenderClear(renderer_);
  }

  SDL_Renderer* renderer_ = nullptr;
  bool software_ = false;  // SDL's own rasteriser on the CPU
  std::string description_;
};

WindowHandle create_window(const DisplayOptions& options, Uint32 extra_flags) {
  Uint32 flags = SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI | extra_flags;
  if (options.fullscreen) flags |= SDL_WINDOW_FULLSCREEN_DESKTOP;
  WindowHandle window(SDL_CreateWindow("Outpost", SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED, options.width,
                                       options.height, flags));
  if (!window) throw std::runtime_error("cannot open a window: " + sdl_error());
  return window;
}

// Whether the machine has a GPU for OpenGL: a DRM render node (/dev/dri/renderD*), which every
// Linux GPU driver with 3D (Intel, AMD, NVIDIA, the Raspberry Pi's V3D, virtio-gpu) provides.
bool has_gpu() {
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/dev/dri", error))
    if (entry.path().filename().string().rfind("renderD", 0) == 0) return true;
  return false;
}

}  // namespace

Display open_display(const DisplayOptions& options, const std::function<void()>& before_imgui) {
  bool software = options.renderer == RendererChoice::Software;
  if (options.renderer == RendererChoice::Automatic && !has_gpu()) {
    log::info("no GPU (no render node in /dev/dri): drawing in software; --opengl draws with OpenGL anyway");
    software = true;
  }
  if (!software) {
    SDL_GL_SetAttribute(SDL_GL_CONTEXT_FLAGS, 0);
    SDL_GL_SetAttribute(SDL_GL_CONTEXT_PROFILE_MASK, SDL_GL_CONTEXT_PROFILE_CORE);
    SDL_GL_SetAttribute(SDL_GL_CONTEXT_MAJOR_VERSION, 3);
    SDL_GL_SetAttribute(SDL_GL_CONTEXT_MINOR_VERSION, 0);
    SDL_GL_SetAttribute(SDL_GL_DOUBLEBUFFER, 1);
    try {
      Display display{create_window(options, SDL_WINDOW_OPENGL), nullptr};
      display.renderer = std::make_unique<GlRenderer>(display.window.get(), before_imgui);
      return display;
    } catch (const std::exception& error) {
      log::warn(std::string(error.what()) + "; drawing with SDL_Renderer instead");
    }
  }
  // A window made for OpenGL cannot always take an SDL_Renderer: start again with a plain one.
  Display display{create_window(options, 0), nullptr};
  display.renderer = std::make_unique<SdlRenderer>(display.window.get(), software, before_imgui);
  return display;
}

}  // namespace outpost::client
