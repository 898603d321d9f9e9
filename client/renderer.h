// The window and what draws into it: OpenGL 3 where it works, SDL_Renderer (accelerated where
// the device has it, else software) where it does not or when asked, so the app runs on a
// Raspberry Pi, in a virtual machine and under Xvfb. Each renderer also sets up Dear ImGui's
// SDL2 platform backend for its window, and shuts both down when destroyed.
#pragma once

#include <SDL.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

struct ImDrawData;

namespace outpost::client {

struct Image {
  int width = 0;
  int height = 0;
  std::vector<unsigned char> rgba;  // rows top first
};

class Renderer {
 public:
  virtual ~Renderer() = default;
  virtual std::string description() const = 0;
  virtual void new_frame() = 0;  // both backends' NewFrame
  virtual void render(ImDrawData* draw_data) = 0;
  virtual void present() = 0;
  // After the font atlas changed: uploads it again.
  virtual void reload_fonts() = 0;
  // The pixels of what render() drew, before present().
  virtual Image read_pixels() = 0;
  // True when rounded shapes cost far more than rectangles (ui::Appearance::square_corners).
  virtual bool prefers_square_corners() const { return false; }
};

struct WindowDeleter {
  void operator()(SDL_Window* window) const { SDL_DestroyWindow(window); }
};
using WindowHandle = std::unique_ptr<SDL_Window, WindowDeleter>;

struct Display {
  WindowHandle window;  // declared first: destroyed after the renderer that draws into it
  std::unique_ptr<Renderer> renderer;
};

// Automatic: OpenGL 3 on a machine with a GPU; without one, SDL's software renderer, which draws
// the same frames for a seventh of the CPU and a third of the memory of Mesa's llvmpipe
// (docs/benchmarks.md).
enum class RendererChoice { Automatic, OpenGL, Software };

struct DisplayOptions {
  int width = 1100;
  int height = 720;
  bool fullscreen = false;
  RendererChoice renderer = RendererChoice::Automatic;
};

// Needs SDL's video subsystem and a current Dear ImGui context. Calls `before_imgui` once the
// window and what draws into it exist and the window shows its background, just before Dear
// ImGui's backends start: until then this makes no call into Dear ImGui (it may be called twice
// when OpenGL fails). The background is shown at once so that the window is never blank, and
// because the first present costs the most (the frame buffer, and an X server's copy of it, are
// touched for the first time: about 30 ms under Xvfb here): it is paid while the fonts are made.
// Throws std::runtime_error with SDL's reason when no window can be opened at all.
Display open_display(const DisplayOptions& options, const std::function<void()>& before_imgui = {});

}  // namespace outpost::client
