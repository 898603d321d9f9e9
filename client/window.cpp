#include "client/window.h"

#include <SDL.h>
#include <imgui.h>
#include <imgui_impl_sdl.h>
#include <stb_image_write.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <iostream>
#include <memory>
#include <optional>

#include "client/app/assets.h"
#include "client/app/i18n.h"
#include "client/app/worker.h"
#include "client/home.h"
#include "client/renderer.h"
#include "client/ui/screens.h"
#include "client/ui/script.h"
#include "client/ui/theme.h"
#include "client/ui/widgets.h"
#include "platform/cli_args.h"
#include "platform/clock.h"
#include "platform/files.h"
#include "platform/log.h"

namespace outpost::client {

namespace {

using cli::take_flag;
using cli::take_option;
using cli::UsageError;

constexpr int kSettleFrames = 3;           // frames drawn after the last event: ImGui settles in two or three
constexpr int kIdleRefreshMs = 30'000;     // an idle window redraws only for "5 minutes ago" texts
constexpr int kAnimationFrameMs = 33;      // while a progress bar shows
constexpr int kScriptFrameMs = 10;         // a script waits for nobody

// --- Options

struct WindowOptions {
  std::string home;
  DisplayOptions display;
  std::optional<ui::Script> script;  // --script FILE, or the tour of --screenshot-dir
  bool report_frames = false;        // --report-frames: say on stdout when the first frames are on screen
};

void parse_size(const std::string& text, DisplayOptions& display) {
  int width = 0;
  int height = 0;
  char separator = 0;
  char rest = 0;
  if (std::sscanf(text.c_str(), "%d%c%d%c", &width, &separator, &height, &rest) != 3 || separator != 'x' ||
      width < 320 || height < 240 || width > 16384 || height > 16384)
    throw UsageError("--size takes WIDTHxHEIGHT of at least 320x240, e.g. 800x480, not '" + text + "'");
  display.width = width;
  display.height = height;
}

WindowOptions parse_options(std::vector<std::string> args) {
  WindowOptions options;
  options.home = take_option(args, "--home").value_or(Home::default_directory());
  const bool software = take_flag(args, "--software-renderer");
  const bool opengl = take_flag(args, "--opengl");
  if (software && opengl) throw UsageError("--software-renderer and --opengl cannot be used together");
  options.display.renderer = software ? RendererChoice::Software : opengl ? RendererChoice::OpenGL : RendererChoice::Automatic;
  options.display.fullscreen = take_flag(args, "--fullscreen");
  options.report_frames = take_flag(args, "--report-frames");
  if (auto size = take_option(args, "--size")) parse_size(*size, options.display);
  const auto script_file = take_option(args, "--script");
  const auto screenshot_dir = take_option(args, "--screenshot-dir");
  if (script_file && screenshot_dir) throw UsageError("--script and --screenshot-dir cannot be used together");
  cli::expect_args(args, 0,
                   "outpost [--home DIR] [--software-renderer | --opengl] [--fullscreen] [--size WxH] "
                   "[--script FILE | --screenshot-dir DIR] [--report-frames]  (or a COMMAND: outpost --help)");
  // Read before any window opens: a mistake in the script is reported at once.
  if (script_file) options.script = ui::Script::parse(files::read_file(*script_file), *script_file);
  if (screenshot_dir) options.script = ui::Script::screenshot_tour(*screenshot_dir);
  return options;
}

// --- Owners of SDL and Dear ImGui

class SdlVideo {
 public:
  static constexpr char kNoDisplayHint[] = "; the command line works without one: outpost --help";

  SdlVideo() {
    SDL_SetHint(SDL_HINT_VIDEO_X11_NET_WM_BYPASS_COMPOSITOR, "0");
    if (SDL_Init(SDL_INIT_VIDEO) != 0)
      throw std::runtime_error(std::string("cannot open a window: ") + SDL_GetError() + kNoDisplayHint);
    // With no display at all SDL falls back to drawing nowhere; only do that when asked to.
    const std::string driver = SDL_GetCurrentVideoDriver() ? SDL_GetCurrentVideoDriver() : "";
    const char* requested = SDL_getenv("SDL_VIDEODRIVER");
    if ((driver == "offscreen" || driver == "dummy") && !(requested && driver == requested)) {
      SDL_Quit();
      throw std::runtime_error("cannot open a window: no display found (X11, Wayland or a console screen)" +
                               std::string(kNoDisplayHint));
    }
  }
  ~SdlVideo() { SDL_Quit(); }
  SdlVideo(const SdlVideo&) = delete;
  SdlVideo& operator=(const SdlVideo&) = delete;
};

class ImGuiSession {
 public:
  ImGuiSession() {
    IMGUI_CHECKVERSION();
    ImGui::CreateContext();
    ImGuiIO& io = ImGui::GetIO();
    io.IniFilename = nullptr;                // no imgui.ini in whatever directory the app started from
    io.ConfigInputTextCursorBlink = false;  // a blinking cursor would keep an idle window drawing
  }
  ~ImGuiSession() { ImGui::DestroyContext(); }
  ImGuiSession(const ImGuiSession&) = delete;
  ImGuiSession& operator=(const ImGuiSession&) = delete;
};

// Dear ImGui's font atlas for the appearance most displays get (no DPI or text scaling), read
// from the cache (or built, the first time: fontconfig, reading the fonts and rasterising about
// 1,600 letters per face) on another thread while the window and its renderer open and show the
// window's background. It starts once SDL is up: SDL_Init reads the X input method's compose
// table a character at a time through stdio, which takes a lock per character once a second
// thread exists (25 ms alone here, 45 ms beside this one). It fills the context's own atlas,
// which nothing else touches until wait() (called before Dear ImGui's backends start, so the main
// thread makes no call into Dear ImGui meanwhile). The first appearance takes it when it has that
// scale; any other loads its own atlas, as every later change of appearance does.
class EarlyFonts {
 public:
  EarlyFonts(ImFontAtlas& atlas, const std::string& cache_directory)
      : built_(std::async(std::launch::async, [&atlas, cache_directory] {
          ui::Fonts fonts = ui::load_fonts(atlas, kAppearance, cache_directory);
          unsigned char* pixels = nullptr;
          int width = 0;
          int height = 0;
          atlas.GetTexDataAsRGBA32(&pixels, &width, &height);  // what the renderer uploads
          return fonts;
        })) {}
  ~EarlyFonts() { wait(); }
  EarlyFonts(const EarlyFonts&) = delete;
  EarlyFonts& operator=(const EarlyFonts&) = delete;

  void wait() {
    if (built_.valid()) built_.wait();
  }
  // The fonts, once, when they suit `appearance`.
  std::optional<ui::Fonts> take(const ui::Appearance& appearance) {
    if (!built_.valid()) return std::nullopt;
    ui::Fonts fonts = built_.get();  // rethrows what the build threw
    if (appearance.scale() != kAppearance.scale()) return std::nullopt;
    return fonts;
  }

 private:
  static constexpr ui::Appearance kAppearance{};
  std::future<ui::Fonts> built_;
};

// Where the window keeps what it can build again (the font atlas, client/ui/font_cache.h):
// $XDG_CACHE_HOME/outpost, else ~/.cache/outpost; nowhere without either.
std::string cache_directory() {
  if (const char* cache = std::getenv("XDG_CACHE_HOME"); cache && *cache) return std::string(cache) + "/outpost";
  if (const char* home = std::getenv("HOME"); home && *home) return std::string(home) + "/.cache/outpost";
  return {};
}

Uint32 register_wake_event() {
  const Uint32 type = SDL_RegisterEvents(1);
  if (type == static_cast<Uint32>(-1)) throw std::runtime_error("SDL has no event type left for the worker");
  return type;
}

std::vector<ui::LanguageChoice> language_choices(const std::string& i18n_directory) {
  std::vector<ui::LanguageChoice> choices;
  for (const std::string& code : app::available_languages(i18n_directory)) {
    std::string name = code;
    try {
      if (const std::string* own = app::Catalog::load(i18n_directory + "/" + code + ".json").find("language.name"))
        name = *own;
    } catch (const std::exception& error) {
      log::warn(error.what());
      continue;
    }
    choices.push_back({code, name});
  }
  return choices;
}

// CPU time of the calling thread: what building a frame costs the app, apart from the
// rasteriser's threads and the worker's.
double thread_cpu_ms() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) * 1e3 + static_cast<double>(now.tv_nsec) / 1e6;
}

void save_png(const Image& image, const std::string& path) {
  std::string png;
  auto append = [](void* context, void* data, int size) {
    static_cast<std::string*>(context)->append(static_cast<const char*>(data), static_cast<size_t>(size));
  };
  if (!stbi_write_png_to_func(append, &png, image.width, image.height, 4, image.rgba.data(), image.width * 4))
    throw std::runtime_error("cannot encode the screenshot " + path);
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) files::ensure_directory(parent.string());
  files::write_file_atomic(path, png);
  log::info("saved " + path);
}

// --- The window

class WindowApp {
 public:
  explicit WindowApp(const WindowOptions& options);
  int run();

 private:
  bool wait_for_frame();
  bool handle(const SDL_Event& event);
  int keep_drawing_every_ms() const;
  void update_language();
  void update_appearance();
  void draw_frame();
  void report_frame();
  app::Worker::Options worker_options(const std::string& home);

  ImGuiSession imgui_;
  const std::string cache_directory_ = cache_directory();
  SdlVideo sdl_;
  EarlyFonts early_fonts_{*ImGui::GetIO().Fonts, cache_directory_};  // from here until the display is open
  Uint32 wake_event_;
  std::atomic<bool> wake_pending_{false};
  Display display_;
  std::string i18n_directory_;
  std::optional<ui::ScriptDriver> script_;
  ui::ViewState view_;
  ui::Fonts fonts_;
  std::optional<ui::Appearance> appearance_;
  bool release_font_pixels_ = false;  // after the next NewFrame, which uploads the first atlas
  std::optional<std::string> language_preference_;
  std::shared_ptr<const app::AppState> state_;
  int frames_to_draw_ = kSettleFrames;
  bool animating_ = false;
  bool text_input_ = true;  // SDL starts with text input on
  bool report_frames_ = false;
  bool reported_data_frame_ = false;
  uint64_t frames_drawn_ = 0;
  double ui_cpu_ms_ = 0;    // this thread's CPU in NewFrame..Render, all frames so far
  app::Worker worker_;      // last: its thread starts once all above exists, and stops first
};

WindowApp::WindowApp(const WindowOptions& options)
    : wake_event_(register_wake_event()),
      display_(open_display(options.display, [this] { early_fonts_.wait(); })),
      i18n_directory_(app::i18n_directory()),
      worker_(worker_options(options.home)) {
  if (options.script) script_.emplace(*options.script);
  report_frames_ = options.report_frames;
  view_.languages = language_choices(i18n_directory_);
  view_.renderer = display_.renderer->description();
  log::info("drawing with " + view_.renderer);
}

app::Worker::Options WindowApp::worker_options(const std::string& home) {
  app::Worker::Options options;
  options.home_directory = home;
  options.wake = [this] {
    // One wake-up in the queue is enough: the window reads the newest snapshot.
    if (wake_pending_.exchange(true)) return;
    SDL_Event event{};
    event.type = wake_event_;
    SDL_PushEvent(&event);
  };
  return options;
}

int WindowApp::run() {
  while (wait_for_frame()) {
    draw_frame();
    if (script_ && script_->done()) {
      if (script_->failure()) throw std::runtime_error("script " + *script_->failure());
      break;
    }
  }
  return 0;
}

// Blocks until there is something to draw: input, a new snapshot, a running animation, or the
// idle refresh. Returns false when the window is to close.
bool WindowApp::wait_for_frame() {
  SDL_Event event;
  bool has_event = frames_to_draw_ > 0 ? SDL_PollEvent(&event) : SDL_WaitEventTimeout(&event, keep_drawing_every_ms());
  while (has_event) {
    if (!handle(event)) return false;
    frames_to_draw_ = kSettleFrames;
    has_event = SDL_PollEvent(&event);
  }
  if (frames_to_draw_ > 0) --frames_to_draw_;
  return true;
}

int WindowApp::keep_drawing_every_ms() const {
  if (script_ && !script_->done()) return kScriptFrameMs;
  return animating_ ? kAnimationFrameMs : kIdleRefreshMs;
}

bool WindowApp::handle(const SDL_Event& event) {
  if (event.type == wake_event_) {
    wake_pending_ = false;
    return true;
  }
  ImGui_ImplSDL2_ProcessEvent(&event);
  if (event.type == SDL_QUIT) return false;
  return !(event.type == SDL_WINDOWEVENT && event.window.event == SDL_WINDOWEVENT_CLOSE &&
           event.window.windowID == SDL_GetWindowID(display_.window.get()));
}

void WindowApp::update_language() {
  const std::string& preference = state_->preferences.language;
  if (language_preference_ == preference) return;
  app::translator().load(i18n_directory_, app::choose_language(preference, app::available_languages(i18n_directory_)));
  language_preference_ = preference;
}

// Fonts and sizes follow the display's DPI, the window's size and the user's text size.
void WindowApp::update_appearance() {
  SDL_Window* window = display_.window.get();
  int width = 0;
  int height = 0;
  SDL_GetWindowSize(window, &width, &height);
  float dpi = 0;
  if (SDL_GetDisplayDPI(SDL_GetWindowDisplayIndex(window), &dpi, nullptr, nullptr) != 0) dpi = 0;
  ui::Appearance wanted;
  wanted.dpi_scale = ui::dpi_scale_for(dpi, height);
  wanted.text_scale = static_cast<float>(state_->preferences.text_scale);
  wanted.touch = ui::is_small_screen(static_cast<int>(width / wanted.dpi_scale), static_cast<int>(height / wanted.dpi_scale));
  wanted.square_corners = display_.renderer->prefers_square_corners();
  if (appearance_ == wanted) return;

  ImGuiIO& io = ImGui::GetIO();
  if (std::optional<ui::Fonts> early = early_fonts_.take(wanted))
    fonts_ = *early;
  else
    fonts_ = ui::load_fonts(*io.Fonts, wanted, cache_directory_);
  view_.font_file = fonts_.file;
  ui::apply_style(ImGui::GetStyle(), wanted);
  // The renderer keeps its own copy of the atlas, so the pixels here can go once it has it. The
  // first frame's NewFrame uploads the atlas; later changes upload it now.
  if (appearance_) {
    display_.renderer->reload_fonts();
    io.Fonts->ClearTexData();
  } else {
    release_font_pixels_ = true;
  }
  appearance_ = wanted;
}

void WindowApp::draw_frame() {
  state_ = worker_.snapshot();
  update_language();
  update_appearance();
  display_.renderer->new_frame();
  ImGuiIO& io = ImGui::GetIO();
  if (release_font_pixels_) {
    io.Fonts->ClearTexData();
    release_font_pixels_ = false;
  }
  if (script_) script_->before_frame(io, ui::item_log(), *state_, std::chrono::steady_clock::now());
  const double ui_begin_ms = thread_cpu_ms();
  ImGui::NewFrame();
  ui::item_log().clear();

  app::Commands commands;
  ui::Frame frame{*state_, view_, commands};
  frame.now_ms = SystemClock::instance().now_ms();
  frame.compact = appearance_->touch;
  frame.heading = fonts_.heading;
  ui::draw_app(frame);
  animating_ = frame.animating;

  ImGui::Render();
  ui_cpu_ms_ += thread_cpu_ms() - ui_begin_ms;
  display_.renderer->render(ImGui::GetDrawData());
  if (script_)
    if (auto path = script_->take_screenshot()) save_png(display_.renderer->read_pixels(), *path);
  display_.renderer->present();
  ++frames_drawn_;
  report_frame();
  worker_.post(std::move(commands));

  // Text input (and an on-screen keyboard where there is one) only while a field wants it.
  if (io.WantTextInput != text_input_) {
    text_input_ = io.WantTextInput;
    if (text_input_)
      SDL_StartTextInput();
    else
      SDL_StopTextInput();
  }
}

// For bench/client: lines on stdout, flushed at once, so a watching process can time them.
// A script's marks are always said; they carry the frame count, the CPU the app has spent
// building frames (NewFrame..Render: the screens, Dear ImGui, the draw lists) and the records
// list's top row in view, so time per frame and how far a list scrolled can be had.
void WindowApp::report_frame() {
  if (report_frames_ && frames_drawn_ == 1) std::cout << "first-frame " << view_.renderer << std::endl;
  if (report_frames_ && !reported_data_frame_ && state_->version > 0) {  // the home is open and shown
    std::cout << "first-data-frame " << frames_drawn_ << std::endl;
    reported_data_frame_ = true;
  }
  if (script_)
    if (auto mark = script_->take_mark())
      std::cout << "mark " << *mark << " frame " << frames_drawn_ << " ui-cpu-ms " << ui_cpu_ms_ << " first-row "
                << view_.records.list.first_row_in_view() << std::endl;
}

}  // namespace

bool wants_window(const std::vector<std::string>& args) {
  std::vector<std::string> rest = args;
  try {
    take_option(rest, "--home");
    take_flag(rest, "--software-renderer");
    take_flag(rest, "--opengl");
    take_flag(rest, "--fullscreen");
    take_flag(rest, "--report-frames");
    for (const char* option : {"--size", "--script", "--screenshot-dir"}) take_option(rest, option);
  } catch (const UsageError&) {
    return true;  // a window option without its value: the window reports it
  }
  return rest.empty();
}

int run_window(const std::vector<std::string>& args, std::ostream& err) {
  return cli::run_guarded("outpost", err, [&] {
    const WindowOptions options = parse_options(args);
    WindowApp app(options);
    return app.run();
  });
}

}  // namespace outpost::client
