#include "client/renderer.h"

#include <SDL_opengl.h>
#include <imgui.h>
#include <imgui_impl_opengl3.h>
#include <imgui_impl_sdl.h>
#include <imgui_impl_sdlrenderer.h>

#include <algorithm>
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
  explicit GlRenderer(SDL_Window* window) : window_(window) {
    context_ = SDL_GL_CreateContext(window);
    if (!context_) throw std::runtime_error("no OpenGL 3 context: " + sdl_error());
    SDL_GL_MakeCurrent(window, context_);
    SDL_GL_SetSwapInterval(1);
    if (!gl_.load()) {
      SDL_GL_DeleteContext(context_);
      throw std::runtime_error("the OpenGL library lacks basic functions");
    }
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
    SDL_GL_GetDrawableSize(window_, &width_, &height_);
    gl_.Viewport(0, 0, width_, height_);
    gl_.ClearColor(kClear[0] / 255.0f, kClear[1] / 255.0f, kClear[2] / 255.0f, 1.0f);
    gl_.Clear(GL_COLOR_BUFFER_BIT);
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
  SDL_Window* window_;
  SDL_GLContext context_ = nullptr;
  GlFunctions gl_;
  std::string description_;
  int width_ = 0;
  int height_ = 0;
};

// --- SDL_Renderer

class SdlRenderer final : public Renderer {
 public:
  SdlRenderer(SDL_Window* window, bool software) {
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
    description_ = std::string("SDL_Renderer (") + (info.name ? info.name : "unknown") + ")";
    ImGui_ImplSDL2_InitForSDLRenderer(window);
    ImGui_ImplSDLRenderer_Init(renderer_);
  }
  ~SdlRenderer() override {
    ImGui_ImplSDLRenderer_Shutdown();
    ImGui_ImplSDL2_Shutdown();
    SDL_DestroyRenderer(renderer_);
  }

  std::string description() const override { return description_; }
  void new_frame() override {
    ImGui_ImplSDLRenderer_NewFrame();
    ImGui_ImplSDL2_NewFrame();
  }
  void render(ImDrawData* draw_data) override {
    SDL_SetRenderDrawColor(renderer_, kClear[0], kClear[1], kClear[2], 255);
    SDL_RenderClear(renderer_);
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
  SDL_Renderer* renderer_ = nullptr;
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

}  // namespace

Display open_display(const DisplayOptions& options) {
  if (!options.software_renderer) {
    SDL_GL_SetAttribute(SDL_GL_CONTEXT_FLAGS, 0);
    SDL_GL_SetAttribute(SDL_GL_CONTEXT_PROFILE_MASK, SDL_GL_CONTEXT_PROFILE_CORE);
    SDL_GL_SetAttribute(SDL_GL_CONTEXT_MAJOR_VERSION, 3);
    SDL_GL_SetAttribute(SDL_GL_CONTEXT_MINOR_VERSION, 0);
    SDL_GL_SetAttribute(SDL_GL_DOUBLEBUFFER, 1);
    try {
      Display display{create_window(options, SDL_WINDOW_OPENGL), nullptr};
      display.renderer = std::make_unique<GlRenderer>(display.window.get());
      return display;
    } catch (const std::exception& error) {
      log::warn(std::string(error.what()) + "; drawing with SDL_Renderer instead");
    }
  }
  // A window made for OpenGL cannot always take an SDL_Renderer: start again with a plain one.
  Display display{create_window(options, 0), nullptr};
  display.renderer = std::make_unique<SdlRenderer>(display.window.get(), options.software_renderer);
  return display;
}

}  // namespace outpost::client
