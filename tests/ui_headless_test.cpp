// Every screen drawn with Dear ImGui and no window: a context with the app's real fonts and
// style, frames built and rendered to draw lists nobody shows. Checks inlined into this code
// throw (imgui_config.h), checks inside libimgui.a abort the test; the item log finds controls
// that share an id. Clicks and typing go through the same script driver as the window's.

#include <doctest/doctest.h>
#include <imgui.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "client/app/assets.h"
#include "client/app/i18n.h"
#include "client/ui/font_cache.h"
#include "client/ui/screens.h"
#include "client/ui/script.h"
#include "client/ui/theme.h"
#include "client/ui/widgets.h"
#include "platform/files.h"
#include "support/temp_dir.h"

namespace {

using namespace outpost;
using ui::ScreenId;

constexpr int64_t kNow = 1'790'000'000'000;  // a fixed instant in 2026
constexpr int kFramesPerScreen = 5;
constexpr int kLargeRecords = 100'000;  // the model holds a window of them
constexpr int kLargeConflicts = 500;
constexpr int kLargeLibrary = 100'000;  // the model holds a window of them
constexpr int kLargeSubmissions = 100'000;  // the same

class ImGuiAssertion : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

[[noreturn]] void throw_assertion(const char* expression, const char* file, int line) {
  throw ImGuiAssertion(std::string("Dear ImGui check failed: ") + expression + " at " + file + ":" + std::to_string(line));
}

// A Dear ImGui context with the app's fonts and style, and no backend.
class HeadlessImGui {
 public:
  HeadlessImGui(ImVec2 size, ui::Appearance appearance) : compact_(appearance.touch) {
    ui::set_imgui_assertion_handler(throw_assertion);
    app::translator().load(app::i18n_directory(), "en");
    ImGui::CreateContext();
    ImGuiIO& io = ImGui::GetIO();
    io.IniFilename = nullptr;
    io.DisplaySize = size;
    io.DeltaTime = 1.0f / 60;
    fonts_ = ui::load_fonts(*io.Fonts, appearance);
    unsigned char* pixels = nullptr;
    int width = 0;
    int height = 0;
    io.Fonts->GetTexDataAsRGBA32(&pixels, &width, &height);
    ui::apply_style(ImGui::GetStyle(), appearance);
  }
  ~HeadlessImGui() {
    ImGui::DestroyContext();
    ui::set_imgui_assertion_handler(nullptr);
  }
  HeadlessImGui(const HeadlessImGui&) = delete;
  HeadlessImGui& operator=(const HeadlessImGui&) = delete;

  const ui::Fonts& fonts() const { return fonts_; }

  // One frame of the whole window; returns what it asked of the model.
  app::Commands frame(const app::AppState& state, ui::ViewState& view, ui::ScriptDriver* script = nullptr) {
    if (script) script->before_frame(ImGui::GetIO(), ui::item_log(), state, std::chrono::steady_clock::now());
    ImGui::NewFrame();
    ui::item_log().clear();
    app::Commands commands;
    ui::Frame frame{state, view, commands};
    frame.now_ms = kNow;
    frame.compact = compact_;
    frame.heading = fonts_.heading;
    ui::draw_app(frame);
    ImGui::Render();
    for (const auto& [first, second] : ui::item_log().collisions())
      FAIL_CHECK("controls share an id: '" << first->name << "' and '" << second->name << "'");
    return commands;
  }

  // Runs `script` to its end; returns every command the frames emitted.
  app::Commands run(const std::string& script_text, const app::AppState& state, ui::ViewState& view) {
    ui::ScriptDriver driver(ui::Script::parse(script_text, "test script"));
    app::Commands all;
    for (int frames = 0; !driver.done() && frames < 1000; ++frames)
      for (app::Command& command : frame(state, view, &driver)) all.push_back(std::move(command));
    CHECK_MESSAGE(driver.done(), "the script did not finish");
    CHECK_MESSAGE(!driver.failure(), driver.failure().value_or(""));
    return all;
  }

 private:
  ui::Fonts fonts_;
  bool compact_;
};

// --- Models to draw

app::AppState empty_state() {
  app::AppState state;
  state.version = 1;
  state.home_directory = "/home/field/.local/share/outpost";
  state.replica_id = "0123456789abcdef0123456789abcdef";
  return state;
}

app::ConflictSideView side(const std::string& value, const std::string& by, int64_t at) {
  return {value, "\"" + value + "\"", false, by, at};
}

// What the model holds of a collection of kLargeRecords: rows [first, first + count).
std::shared_ptr<const app::RecordList> record_window(int64_t first, int64_t count) {
  auto records = std::make_shared<app::RecordList>();
  records->collection = "submissions";
  records->total = kLargeRecords;
  records->first = first;
  for (int64_t i = first; i < std::min<int64_t>(first + count, kLargeRecords); ++i) {
    char id[32];
    std::snprintf(id, sizeof id, "s-%06lld", static_cast<long long>(i));
    records->rows.push_back({id, kNow - i * 1000, "household: H\u1ec7 " + std::to_string(i) + " \u00b7 members: 5"});
  }
  return records;
}

app::AppState large_state() {
  app::AppState state = empty_state();
  state.enrollment = app::EnrollmentView{"https://registry.example.org", "dev-42", "Relief Network", "field"};
  state.connection = app::Connection::Online;
  state.status.pending_changes = 1234;
  state.status.pending_records = 321;
  state.status.refused_changes = 2;
  state.refused = {{1, "households", "hh-0001", "forbidden", "households/hh-0001 is an id another organization uses", kNow, kNow},
                   {2, "forms", "intake@1", "forbidden", "forms/intake@1 is published by the registry", kNow, kNow}};
  state.refused_files_total = 2;
  state.refused_files = {{std::string(64, 'a'), "uploading aaa…: registry answered HTTP 413: files are at most 1 MB here", kNow},
                         {std::string(64, 'b'), "uploading bbb…: the registry refused chunk 3 3 times", kNow}};
  state.status.open_conflicts = kLargeConflicts;
  state.status.last_sync_ms = kNow - 3 * 60'000;
  state.status.last_sync_result = "ok";
  state.sync.finished = 3;
  state.sync.report = {4, 500, 9000, 3, 120'000, 2'400'000, 1};
  state.sync.next_attempt_ms = kNow + 600'000;
  for (int i = 0; i < 20; ++i)
    state.urgent.push_back({"incidents", "inc-" + std::to_string(i), 10, kNow - i * 60'000});
  state.urgent_total = 57;
  state.collections = {{"submissions", kLargeRecords}, {"incidents", 57}, {"activities", 0}};
  state.storage.database_bytes = 48'000'000;
  state.storage.collections = {{"_conflicts", kLargeConflicts, 0, 400'000}, {"submissions", kLargeRecords, 12, 40'000'000}};
  state.storage.library_bytes = 350'000'000;
  state.storage.attachment_bytes = 1'200'000'000;
  state.storage.measured_ms = kNow;

  state.records = record_window(0, app::kListWindow);
  state.record = app::RecordDetail{"submissions", "s-000000", false, kNow - 1000,
                                   {{"household", "Amina Yusuf", false, state.replica_id, kNow - 1000},
                                    {"name_ar", "\u0623\u0645\u064a\u0646\u0629", true, "fedcba9876543210", kNow - 2000},
                                    {"needs", "[\"water\",\"shelter\"]", false, "fedcba9876543210", kNow - 3000}}};
  auto conflicts = std::make_shared<std::vector<app::ConflictView>>();
  for (int i = 0; i < kLargeConflicts; ++i) {
    const bool deletion = i % 7 == 0;
    app::ConflictView conflict{"c" + std::to_string(i), "submissions", "s-" + std::to_string(i),
                               deletion ? "_deleted" : "members", deletion,
                               side("7", "Field tablet", kNow - 60'000), side("8", "Coordinator laptop", kNow - 50'000),
                               kNow - 30'000};
    if (deletion) {
      conflict.kept.value_json = "true";
      conflict.lost.value_json = "false";
    }
    conflicts->push_back(std::move(conflict));
  }
  state.conflicts = conflicts;
  state.preferences.text_scale = 1.0;

  auto library = std::make_shared<app::LibraryList>();
  library->languages = {"en", "es", "fr"};
  library->themes = {"advocacy", "human-rights", "sdgs", "wash"};
  library->used_bytes = 12'000'000;
  library->quota_bytes = 500'000'000;
  library->hits.total = kLargeLibrary;
  for (int i = 0; i < app::kListWindow; ++i) {
    client::Material material;
    material.id = "mat_" + std::to_string(i);
    material.info.title = "Guide " + std::to_string(i) + ": r\u00e9union de coordination";
    material.info.summary = "How to prepare a coordination meeting";
    material.info.lang = library->languages[static_cast<size_t>(i) % 3];
    material.info.tags = {library->themes[static_cast<size_t>(i) % 4]};
    material.info.size = 1000u * static_cast<uint64_t>(i + 1);
    material.state = static_cast<client::DownloadState>(i % 3);
    material.pinned = i % 3 == 2;
    library->hits.rows.push_back({material, i % 2 ? "the **meeting** agenda" : "", 0});
  }
  state.library = library;
  state.download = app::DownloadProgress{"mat_0", 400, 1000};

  auto overview = std::make_shared<app::FormsOverview>();
  overview->forms = {{"flood_alert", "Flood alert", "3", true}, {"household_survey", "Household survey", "1", false}};
  overview->submissions.total = kLargeSubmissions;
  for (int i = 0; i < app::kListWindow; ++i)
    overview->submissions.rows.push_back({"sub-" + std::to_string(i), "household_survey", "Household survey",
                                     static_cast<app::SubmissionState>(i % 3), kNow - i * 60'000});
  overview->drafts = (kLargeSubmissions + 2) / 3;
  state.forms = overview;
  return state;
}

// A page with every kind of widget the forms screen draws.
std::shared_ptr<const app::FillView> fill_view() {
  using forms::QuestionType;
  auto fill = std::make_shared<app::FillView>();
  fill->submission_id = "sub-new";
  fill->form_id = "flood_alert";
  fill->title = "Flood alert";
  fill->urgent = true;
  fill->page = 1;
  fill->relevant_pages = {0, 1, 2};
  auto question = [](std::string name, QuestionType type, std::string answer = "") {
    app::QuestionView view;
    view.label = name + " label";
    view.name = std::move(name);
    view.type = type;
    view.answer = std::move(answer);
    return view;
  };
  std::vector<app::ChoiceView> colours{{"red", "Red"}, {"blue", "Blue"}, {"green", "Green"}};
  app::QuestionView group = question("basics", QuestionType::Group);
  app::QuestionView text = question("a_text", QuestionType::Text, "hello");
  text.required = true;
  text.depth = 1;
  text.error = "At most 50 letters.";
  app::QuestionView one = question("one_colour", QuestionType::SelectOne, "red");
  one.choices = colours;
  app::QuestionView minimal = question("district", QuestionType::SelectOne);
  minimal.choices = colours;
  minimal.as_list = true;
  app::QuestionView many = question("colours", QuestionType::SelectMultiple, "red blue");
  many.choices = colours;
  app::QuestionView computed = question("computed", QuestionType::Text, "hello!");
  computed.read_only = true;
  app::QuestionView repeat = question("visits", QuestionType::Repeat);
  repeat.entries = 1;
  app::QuestionView entry = question("visits", QuestionType::Repeat);
  entry.path = {0};
  entry.entry_header = true;
  app::QuestionView visit = question("visit_date", QuestionType::Date);
  visit.path = {0};
  visit.depth = 2;
  fill->questions = {group, text, question("an_integer", QuestionType::Integer), question("a_decimal", QuestionType::Decimal),
                     question("a_date", QuestionType::Date), question("a_time", QuestionType::Time), one, minimal, many,
                     question("a_geopoint", QuestionType::Geopoint), question("a_note", QuestionType::Note),
                     question("agree", QuestionType::Acknowledge, "OK"), question("photo", QuestionType::Image),
                     computed, repeat, entry, visit};
  fill->errors = {"visit_date (visits 1): An answer is required."};
  return fill;
}

app::AppState syncing_state() {
  app::AppState state = large_state();
  state.sync.running = true;
  state.sync.pending_at_start = 321;
  state.sync.report = {1, 120, 0, 0, 40'000, 1'000, 0};
  auto reader = std::make_shared<app::ReaderDocument>();
  reader->material_id = "mat_1";
  reader->title = "Water points";
  reader->blocks = {{client::TextBlock::Kind::Heading, 1, "Water points"},
                    {client::TextBlock::Kind::Paragraph, 0, "Keep clean records of every point."},
                    {client::TextBlock::Kind::ListItem, 1, "first"},
                    {client::TextBlock::Kind::ListItem, 2, "nested"},
                    {client::TextBlock::Kind::Quote, 0, "a quote"},
                    {client::TextBlock::Kind::Code, 0, "code\nblock"},
                    {client::TextBlock::Kind::Heading, 3, "Small heading"}};
  state.reader = reader;
  state.fill = fill_view();
  return state;
}

app::AppState failing_state() {
  app::AppState state = large_state();
  state.connection = app::Connection::Offline;
  state.sync.problem = app::Problem{"problem.offline", {{"url", "https://registry.example.org"}}, "cannot reach it"};
  state.enroll_problem = app::Problem{"problem.code_refused", {}, "unknown code"};
  state.resolve_problem = app::ActionProblem{"c0", {"problem.bad_merged_value", {{"position", "3"}}, "bad JSON"}};
  state.library_problem = app::ActionProblem{"mat_1", {"problem.download_failed", {}, "connection reset"}};
  return state;
}

app::AppState broken_home_state() {
  app::AppState state = empty_state();
  state.home_problem = app::Problem{"problem.home_unusable", {{"path", state.home_directory}}, "permission denied"};
  return state;
}

struct Layout {
  const char* name;
  ImVec2 size;
  ui::Appearance appearance;
};

const Layout kLayouts[] = {
    {"laptop", ImVec2(1280, 800), {1.0f, 1.0f, false}},
    {"5-inch touch screen", ImVec2(800, 480), {1.0f, 1.0f, true}},
    {"largest text", ImVec2(1280, 800), {1.0f, 2.0f, false}},
    {"square corners (software renderer)", ImVec2(1280, 800), {1.0f, 1.0f, false, true}},
};

size_t count_named(const std::string& prefix) {
  size_t count = 0;
  for (const ui::LoggedItem& item : ui::item_log().items()) count += item.name.rfind(prefix, 0) == 0;
  return count;
}

// The last command of type T.
template <typename T>
const T* find_command(const app::Commands& commands) {
  const T* found = nullptr;
  for (const app::Command& command : commands)
    if (const T* typed = std::get_if<T>(&command)) found = typed;
  return found;
}

}  // namespace

TEST_CASE("ui: every screen draws over an empty model and a large one, on every layout, without an assertion or id collision") {
  const std::pair<const char*, app::AppState> states[] = {
      {"empty", empty_state()},   {"large", large_state()},           {"syncing", syncing_state()},
      {"failing", failing_state()}, {"broken home", broken_home_state()},
  };
  for (const Layout& layout : kLayouts) {
    HeadlessImGui imgui(layout.size, layout.appearance);
    for (const auto& [state_name, state] : states) {
      for (const ui::ScreenEntry& screen : ui::screen_registry()) {
        INFO(layout.name << ", " << state_name << " model, " << screen.name << " screen");
        ui::ViewState view;
        view.screen = screen.id;
        view.languages = {{"en", "English"}, {"fr", "Fran\u00e7ais"}};
        view.renderer = "none";
        for (int frame = 0; frame < kFramesPerScreen; ++frame) REQUIRE_NOTHROW(imgui.frame(state, view));
        CHECK(view.screen == screen.id);
      }
    }
  }
}

TEST_CASE("ui: a long list draws only the rows in view") {
  HeadlessImGui imgui(ImVec2(1280, 800), {});
  const app::AppState state = large_state();
  ui::ViewState view;
  view.screen = ScreenId::Records;
  for (int frame = 0; frame < kFramesPerScreen; ++frame) imgui.frame(state, view);
  const size_t rows = count_named("record.");
  CHECK(rows > 5);
  CHECK(rows < 100);

  view.screen = ScreenId::Conflicts;
  for (int frame = 0; frame < kFramesPerScreen; ++frame) imgui.frame(state, view);
  CHECK(count_named("conflict.") < 100);
}

TEST_CASE("ui: a script scrolls a list with the wheel and marks where it got") {
  HeadlessImGui imgui(ImVec2(1280, 800), {});
  const app::AppState state = large_state();
  ui::ViewState view;
  view.screen = ScreenId::Records;
  const std::string first_row = "record." + state.records->rows.front().id;
  ui::ScriptDriver driver(ui::Script::parse("wait settled\nmark begin\nscroll " + first_row + " 20\nmark end\n", "s"));
  std::vector<std::string> marks;
  for (int frame = 0; frame < 1000 && !driver.done(); ++frame) {
    imgui.frame(state, view, &driver);
    if (auto mark = driver.take_mark()) marks.push_back(*mark);
  }
  CHECK_MESSAGE(!driver.failure(), driver.failure().value_or(""));
  CHECK(marks == std::vector<std::string>{"begin", "end"});
}

TEST_CASE("ui: the records list asks the model for the rows around those in view as it scrolls") {
  HeadlessImGui imgui(ImVec2(1280, 800), {});
  app::AppState state = large_state();
  ui::ViewState view;
  view.screen = ScreenId::Records;
  ui::ScriptDriver driver(ui::Script::parse("wait settled\nscroll record.s-000000 150\n", "s"));
  std::vector<app::OpenCollection> asked;
  for (int frame = 0; frame < 1000 && !driver.done(); ++frame)
    for (const app::Command& command : imgui.frame(state, view, &driver))
      if (const auto* open = std::get_if<app::OpenCollection>(&command)) {
        asked.push_back(*open);
        state.records = record_window(open->first, open->count);  // the model answers before the next frame
      }
  CHECK_MESSAGE(!driver.failure(), driver.failure().value_or(""));
  const int64_t top = view.records.list.first_row_in_view();
  CHECK(top > app::kListWindow);  // scrolled past the first window
  REQUIRE(asked.size() >= 2);
  for (const app::OpenCollection& open : asked) {
    CHECK(open.collection == "submissions");
    CHECK(open.count == app::kListWindow);
  }
  // The last window holds the rows in view, with room to scroll on either side.
  CHECK(asked.back().first < top);
  CHECK(asked.back().first + asked.back().count > top + 40);
  const size_t rows = count_named("record.");
  CHECK(rows > 5);
  CHECK(rows < 100);

  // While the model has not answered, rows outside its window are placeholders (the clipper
  // still measures row 0), and each window is asked for once.
  ui::ViewState waiting;
  waiting.screen = ScreenId::Records;
  state.records = record_window(0, app::kListWindow);
  ui::ScriptDriver unanswered(ui::Script::parse("wait settled\nscroll record.s-000000 150\n", "s"));
  asked.clear();
  for (int frame = 0; frame < 1000 && !unanswered.done(); ++frame)
    for (const app::Command& command : imgui.frame(state, waiting, &unanswered))
      if (const auto* open = std::get_if<app::OpenCollection>(&command)) asked.push_back(*open);
  CHECK(waiting.records.list.first_row_in_view() > app::kListWindow);
  CHECK(count_named("record.") <= 1);
  REQUIRE(asked.size() >= 2);
  for (size_t i = 1; i < asked.size(); ++i) CHECK(asked[i].first != asked[i - 1].first);
  CHECK(imgui.frame(state, waiting).empty());
}

TEST_CASE("ui: the library lists 10,000 materials drawing only the rows in view") {
  HeadlessImGui imgui(ImVec2(1280, 800), {});
  const app::AppState state = large_state();
  ui::ViewState view;
  view.screen = ScreenId::Library;
  for (int frame = 0; frame < kFramesPerScreen; ++frame) imgui.frame(state, view);
  const size_t rows = count_named("pin.") + count_named("open.");
  CHECK(rows > 3);
  CHECK(rows < 100);
}

TEST_CASE("ui: the library searches once typing pauses, filters at once, and pins, opens, unpins, removes") {
  HeadlessImGui imgui(ImVec2(1280, 800), {});
  const app::AppState state = large_state();
  ui::ViewState view;
  view.screen = ScreenId::Library;
  const app::Commands first = imgui.frame(state, view);
  const auto* initial = find_command<app::SearchLibrary>(first);
  REQUIRE(initial);  // the whole catalog, as soon as the screen shows
  CHECK(initial->filter == app::LibraryFilter{});

  app::Commands typed = imgui.run("click library.search\ntype water\n", state, view);
  CHECK_FALSE(find_command<app::SearchLibrary>(typed));  // not on every keystroke
  for (int frame = 0; frame < 60; ++frame)
    for (app::Command& command : imgui.frame(state, view)) typed.push_back(std::move(command));
  const auto* search = find_command<app::SearchLibrary>(typed);
  REQUIRE(search);
  CHECK(search->filter.query == "water");
  size_t searches = 0;
  for (const app::Command& command : typed) searches += std::holds_alternative<app::SearchLibrary>(command);
  CHECK(searches == 1);

  const app::Commands filtered = imgui.run("click library.language.fr\n", state, view);
  const auto* by_language = find_command<app::SearchLibrary>(filtered);
  REQUIRE(by_language);
  CHECK(by_language->filter.language == "fr");
  CHECK(by_language->filter.query == "water");

  const app::Commands actions =
      imgui.run("click pin.mat_3\nclick open.mat_2\nclick unpin.mat_2\nclick evict.mat_2\n", state, view);
  REQUIRE(find_command<app::PinMaterial>(actions));
  CHECK(find_command<app::PinMaterial>(actions)->material_id == "mat_3");
  CHECK(view.library.pins_asked == std::vector<std::string>{"mat_3"});  // "waiting" until the worker starts it
  REQUIRE(find_command<app::OpenMaterial>(actions));
  CHECK(find_command<app::OpenMaterial>(actions)->material_id == "mat_2");
  REQUIRE(find_command<app::UnpinMaterial>(actions));
  REQUIRE(find_command<app::EvictMaterial>(actions));
  CHECK(find_command<app::EvictMaterial>(actions)->material_id == "mat_2");

  const app::Commands closing = imgui.run("click close_reader\n", syncing_state(), view);
  CHECK(find_command<app::CloseReader>(closing));
}

TEST_CASE("ui: the forms screen lists forms and 10,000 submissions drawing only the rows in view, and starts one") {
  HeadlessImGui imgui(ImVec2(1280, 800), {});
  const app::AppState state = large_state();
  ui::ViewState view;
  view.screen = ScreenId::Forms;
  const app::Commands first = imgui.frame(state, view);
  CHECK(find_command<app::ListForms>(first));
  CHECK(imgui.frame(state, view).empty());  // asked once
  const app::Commands started = imgui.run("click start.flood_alert\n", state, view);
  const auto* start = find_command<app::StartSubmission>(started);
  REQUIRE(start);
  CHECK(start->form_id == "flood_alert");
  CHECK(start->ui_language == "en");
}

TEST_CASE("ui: a form's page emits answers as they are typed or chosen, repeats, pages and finalize") {
  HeadlessImGui imgui(ImVec2(1280, 800), {});  // the page is taller: the script scrolls to each field
  app::AppState state = large_state();
  state.fill = fill_view();
  ui::ViewState view;
  view.screen = ScreenId::Forms;
  const app::Commands commands = imgui.run(
      "click answer.an_integer\ntype 42\nclick answer.one_colour.blue\nclick answer.colours.green\n"
      "click answer.district\nclick answer.district.2\nclick add.visits\nclick remove.visits.0\n"
      "click page_next\nclick page_back\nclick save_close\n",
      state, view);
  std::vector<std::pair<std::string, std::string>> answers;
  for (const app::Command& command : commands)
    if (const auto* answer = std::get_if<app::SetAnswer>(&command)) answers.emplace_back(answer->name, answer->text);
  CHECK(std::find(answers.begin(), answers.end(), std::make_pair(std::string("an_integer"), std::string("42"))) != answers.end());
  CHECK(std::find(answers.begin(), answers.end(), std::make_pair(std::string("one_colour"), std::string("blue"))) != answers.end());
  CHECK(std::find(answers.begin(), answers.end(), std::make_pair(std::string("colours"), std::string("red blue green"))) != answers.end());
  CHECK(std::find(answers.begin(), answers.end(), std::make_pair(std::string("district"), std::string("green"))) != answers.end());
  REQUIRE(find_command<app::AddRepeatEntry>(commands));
  CHECK(find_command<app::AddRepeatEntry>(commands)->name == "visits");
  REQUIRE(find_command<app::RemoveRepeatEntry>(commands));
  CHECK(find_command<app::RemoveRepeatEntry>(commands)->index == 0);
  std::vector<size_t> pages;
  for (const app::Command& command : commands)
    if (const auto* page = std::get_if<app::GoToPage>(&command)) pages.push_back(page->page);
  CHECK(pages == std::vector<size_t>{2, 0});
  CHECK(find_command<app::CloseSubmission>(commands));

  app::FillView last_page = *state.fill;
  last_page.page = 2;
  state.fill = std::make_shared<app::FillView>(last_page);
  CHECK(find_command<app::FinalizeSubmission>(imgui.run("click finalize\n", state, view)));
}

TEST_CASE("ui: an image question browses folders and attaches a file clicked or a path typed, shows it, removes it") {
  test::TempDir dir("outpost-picker");
  std::filesystem::create_directory(dir.file("photos"));
  std::ofstream(dir.file("photos/well.jpg")) << "jpeg bytes";
  std::ofstream(dir.file("notes.txt")) << "text";
  HeadlessImGui imgui(ImVec2(1280, 800), {});
  app::AppState state = large_state();
  state.fill = fill_view();
  ui::ViewState view;
  view.screen = ScreenId::Forms;
  const app::FolderListing listing = app::list_folder(dir.path());
  REQUIRE(listing.entries.size() == 2);
  CHECK(listing.entries[0].name == "photos");  // folders first
  CHECK(listing.entries[1].size == 4);
  CHECK(listing.error.empty());
  CHECK(app::list_folder(dir.file("nowhere")).error != "");

  // The picker asks the worker for the folder it shows, and draws the answer once it is there.
  view.forms.picker.folder = dir.path();
  const app::Commands opened = imgui.run("click choose.photo\n", state, view);
  REQUIRE(find_command<app::ListFolder>(opened));
  CHECK(find_command<app::ListFolder>(opened)->folder == dir.path());
  state.folder = std::make_shared<app::FolderListing>(listing);
  const app::Commands into = imgui.run("click files.photo.entry.photos\n", state, view);
  REQUIRE(find_command<app::ListFolder>(into));
  CHECK(find_command<app::ListFolder>(into)->folder == dir.file("photos"));
  state.folder = std::make_shared<app::FolderListing>(app::list_folder(dir.file("photos")));
  const app::Commands clicked = imgui.run("click files.photo.entry.well.jpg\n", state, view);
  const auto* attach = find_command<app::AttachFile>(clicked);
  REQUIRE(attach);
  CHECK(attach->name == "photo");
  CHECK(attach->file == dir.file("photos/well.jpg"));
  CHECK(view.forms.picker_for.empty());  // closed once a file is chosen

  const app::Commands typed =
      imgui.run("click choose.photo\nclick files.photo.path\ntype /media/card/IMG_7.jpg\nclick files.photo.use\n",
                state, view);
  REQUIRE(find_command<app::AttachFile>(typed));
  CHECK(find_command<app::AttachFile>(typed)->file == "/media/card/IMG_7.jpg");

  app::FillView answered = *state.fill;
  for (app::QuestionView& question : answered.questions)
    if (question.name == "photo") {
      question.answer = "well.jpg";
      question.file_size = 10;
    }
  state.fill = std::make_shared<app::FillView>(answered);
  const app::Commands removed = imgui.run("click remove_file.photo\n", state, view);
  REQUIRE(find_command<app::SetAnswer>(removed));
  CHECK(find_command<app::SetAnswer>(removed)->text.empty());
}

TEST_CASE("ui: a draft in the submissions list reopens") {
  HeadlessImGui imgui(ImVec2(1280, 800), {});
  app::AppState state = large_state();
  ui::ViewState view;
  view.screen = ScreenId::Forms;
  view.forms.requested = true;
  const std::string draft = state.forms->submissions.rows.at(0).id;
  REQUIRE(state.forms->submissions.rows.at(0).state == app::SubmissionState::Draft);
  const app::Commands commands = imgui.run("click reopen." + draft + "\n", state, view);
  REQUIRE(find_command<app::ReopenSubmission>(commands));
  CHECK(find_command<app::ReopenSubmission>(commands)->submission_id == draft);
}

TEST_CASE("ui: the records screen asks for the chosen collection and record once") {
  HeadlessImGui imgui(ImVec2(1280, 800), {});
  app::AppState state = large_state();
  state.records.reset();
  state.record.reset();
  ui::ViewState view;
  view.screen = ScreenId::Records;
  app::Commands first = imgui.frame(state, view);
  const auto* open = find_command<app::OpenCollection>(first);
  REQUIRE(open);
  CHECK(open->collection == "submissions");
  CHECK(imgui.frame(state, view).empty());  // asked once, while the answer is on its way

  state = large_state();
  app::Commands commands = imgui.run("click record.s-000003\nquit\n", state, view);
  const auto* select = find_command<app::SelectRecord>(commands);
  REQUIRE(select);
  CHECK(select->id == "s-000003");
  CHECK(view.records.record_id == "s-000003");
}

TEST_CASE("ui: Settings asks for the storage to be measured once per visit, and says so until it is") {
  HeadlessImGui imgui(ImVec2(1280, 800), {});
  app::AppState state = large_state();
  state.storage = {};  // not measured yet
  ui::ViewState view;
  view.screen = ScreenId::Settings;
  CHECK(find_command<app::MeasureStorage>(imgui.frame(state, view)));
  CHECK_FALSE(find_command<app::MeasureStorage>(imgui.frame(state, view)));
  const app::Commands again = imgui.run("click nav.dashboard\nclick nav.settings\nquit\n", state, view);
  CHECK(std::count_if(again.begin(), again.end(),
                      [](const app::Command& c) { return std::holds_alternative<app::MeasureStorage>(c); }) == 1);
}

TEST_CASE("ui: clicks and typing on each screen emit the model's commands") {
  HeadlessImGui imgui(ImVec2(1280, 800), {});
  ui::ViewState view;
  view.languages = {{"en", "English"}, {"es", "Espa\u00f1ol"}, {"fr", "Fran\u00e7ais"}};

  SUBCASE("dashboard: sync now") {
    const app::Commands commands = imgui.run("click sync_now\n", large_state(), view);
    CHECK(find_command<app::SyncNow>(commands));
  }
  SUBCASE("sync: sync now, but not while a sync runs") {
    view.screen = ScreenId::Sync;
    const app::Commands commands = imgui.run("click \"Sync now\"\n", large_state(), view);
    CHECK(find_command<app::SyncNow>(commands));
    ui::ScriptDriver driver(ui::Script::parse("click sync_now\n", "test"));
    const app::AppState syncing = syncing_state();
    for (int frame = 0; frame < 10; ++frame) CHECK(imgui.frame(syncing, view, &driver).empty());
    CHECK_FALSE(driver.done());  // the button stays disabled
  }
  SUBCASE("settings: enrollment with a typed address and code") {
    const app::Commands commands = imgui.run(
        "click nav.settings\nclick registry_url\ntype https://registry.example.org\n"
        "click \"Enrollment code\"\ntype ABCD-1234\nclick enroll\n",
        empty_state(), view);
    const auto* enroll = find_command<app::Enroll>(commands);
    REQUIRE(enroll);
    CHECK(enroll->registry_url == "https://registry.example.org");
    CHECK(enroll->code == "ABCD-1234");
    CHECK(view.screen == ScreenId::Settings);
  }
  SUBCASE("settings: language and text size") {
    view.screen = ScreenId::Settings;
    const app::Commands commands = imgui.run("click language.fr\nclick text_size.3\n", large_state(), view);
    const auto* language = find_command<app::SetLanguage>(commands);
    REQUIRE(language);
    CHECK(language->language == "fr");
    const auto* size = find_command<app::SetTextScale>(commands);
    REQUIRE(size);
    CHECK(size->scale == app::kTextScales[3]);
  }
  SUBCASE("conflicts: keep either value, or a typed one that starts from the current value") {
    view.screen = ScreenId::Conflicts;
    struct Case {
      const char* script;
      const char* conflict;
      app::Resolution resolution;
    };
    for (const Case& expected : {Case{"click keep_kept\n", "c0", app::Resolution::KeepKept},
                                 Case{"click conflict.c1\nclick keep_lost\n", "c1", app::Resolution::KeepLost},
                                 Case{"click conflict.c2\nclick save_merged\n", "c2", app::Resolution::Merged}}) {
      CAPTURE(expected.script);
      const app::Commands commands = imgui.run(expected.script, large_state(), view);
      const auto* resolve = find_command<app::ResolveConflict>(commands);
      REQUIRE(resolve);
      CHECK(resolve->conflict_id == expected.conflict);
      CHECK(resolve->resolution == expected.resolution);
      if (expected.resolution == app::Resolution::Merged) CHECK(resolve->merged_json == "\"7\"");
    }
  }
  SUBCASE("a script waits to see a list's row") {
    imgui.run("click nav.forms\nsee reopen.sub-0\n", large_state(), view);
    CHECK(view.screen == ScreenId::Forms);
  }
  SUBCASE("navigation") {
    imgui.run("click nav.conflicts\n", large_state(), view);
    CHECK(view.screen == ScreenId::Conflicts);
    imgui.run("click \"At a glance\"\n", large_state(), view);
    CHECK(view.screen == ScreenId::Dashboard);
  }
}

TEST_CASE("ui: a script that cannot go on says which line, why, and what was on screen") {
  HeadlessImGui imgui(ImVec2(1280, 800), {});
  ui::ViewState view;
  ui::ScriptDriver driver(ui::Script::parse("click nav.settings\nwait enrolled 0.05\n", "enroll.script"));
  const app::AppState state = empty_state();
  for (int frame = 0; frame < 1'000'000 && !driver.done(); ++frame) imgui.frame(state, view, &driver);
  REQUIRE(driver.failure());
  CHECK(driver.failure()->find("enroll.script line 2 (wait enrolled)") == 0);
  CHECK(driver.failure()->find("registry_url") != std::string::npos);
}

TEST_CASE("ui: scripts name the line of a mistake") {
  CHECK_THROWS_WITH(ui::Script::parse("click a\njump b\n", "s"), doctest::Contains("s line 2: unknown step 'jump'"));
  CHECK_THROWS_WITH(ui::Script::parse("click\n", "s"), doctest::Contains("s line 1: 'click' needs an argument"));
  CHECK_THROWS_WITH(ui::Script::parse("wait rain\n", "s"), doctest::Contains("unknown condition 'rain'"));
  CHECK_THROWS_WITH(ui::Script::parse("wait synced soon\n", "s"), doctest::Contains("optionally a number of seconds"));
  CHECK_THROWS_WITH(ui::Script::parse("quit now\n", "s"), doctest::Contains("'quit' takes no argument"));
  CHECK_THROWS_WITH(ui::Script::parse("scroll list\n", "s"), doctest::Contains("'scroll' takes a control and a number"));
  CHECK_THROWS_WITH(ui::Script::parse("scroll list 0\n", "s"), doctest::Contains("'scroll' takes a control and a number"));
  CHECK_THROWS_WITH(ui::Script::parse("mark\n", "s"), doctest::Contains("'mark' needs a text"));
  CHECK_THROWS_WITH(ui::Script::parse("see\n", "s"), doctest::Contains("'see' needs an argument"));
  const ui::Script scroll = ui::Script::parse("scroll \"Long list\" 25\n", "s");
  CHECK(scroll.steps()[0].argument == "Long list");
  CHECK(scroll.steps()[0].frames == 25);
  const ui::Script script = ui::Script::parse("# comment\n\n  type \"  two words \"\nwait synced 90\n", "s");
  REQUIRE(script.steps().size() == 2);
  CHECK(script.steps()[0].argument == "  two words ");
  CHECK(script.steps()[1].timeout == std::chrono::seconds(90));
  const ui::Script tour = ui::Script::screenshot_tour("/tmp/shots");
  CHECK(tour.steps().size() == ui::screen_registry().size() * 3 + 1);
}

TEST_CASE("ui: Noto Sans is found through fontconfig with Latin, Vietnamese, Cyrillic and Greek letters") {
  HeadlessImGui imgui(ImVec2(800, 600), {});
  REQUIRE_MESSAGE(!imgui.fonts().file.empty(), "install fonts-noto-core");
  CHECK(imgui.fonts().file.find("NotoSans") != std::string::npos);
  for (const ImWchar letter : {ImWchar(0x00E9), ImWchar(0x1EC7), ImWchar(0x0416), ImWchar(0x03A9), ImWchar(0x2026)})
    CHECK_MESSAGE(imgui.fonts().body->FindGlyphNoFallback(letter) != nullptr, "U+" << std::hex << letter);
  CHECK_FALSE(ui::find_font_file("No Such Family", "No Such Family"));
}

// --- The font atlas kept on disk (client/ui/font_cache.h)

namespace {

// The one file in `directory` and its inode: a kept atlas written again is a new file.
std::pair<std::string, std::filesystem::path> only_file(const std::string& directory) {
  std::vector<std::filesystem::path> found;
  for (const auto& entry : std::filesystem::directory_iterator(directory)) found.push_back(entry.path());
  REQUIRE(found.size() == 1);
  struct stat info {};
  REQUIRE(::stat(found[0].c_str(), &info) == 0);
  return {std::to_string(info.st_ino), found[0]};
}

void check_same_atlas(const ImFontAtlas& built, const ImFontAtlas& kept) {
  REQUIRE(kept.TexWidth == built.TexWidth);
  REQUIRE(kept.TexHeight == built.TexHeight);
  CHECK(std::memcmp(kept.TexPixelsAlpha8, built.TexPixelsAlpha8, static_cast<size_t>(built.TexWidth * built.TexHeight)) == 0);
  CHECK(kept.TexUvWhitePixel.x == built.TexUvWhitePixel.x);
  CHECK(kept.TexUvWhitePixel.y == built.TexUvWhitePixel.y);
  CHECK(std::memcmp(kept.TexUvLines, built.TexUvLines, sizeof built.TexUvLines) == 0);
  CHECK(kept.TexReady);
  REQUIRE(kept.Fonts.Size == built.Fonts.Size);
  for (int index = 0; index < built.Fonts.Size; ++index) {
    const ImFont& a = *built.Fonts[index];
    const ImFont& b = *kept.Fonts[index];
    CHECK(b.FontSize == a.FontSize);
    CHECK(b.Ascent == a.Ascent);
    CHECK(b.Descent == a.Descent);
    CHECK(b.FallbackChar == a.FallbackChar);
    CHECK(b.EllipsisChar == a.EllipsisChar);
    CHECK(b.DotChar == a.DotChar);
    CHECK(b.FallbackAdvanceX == a.FallbackAdvanceX);
    REQUIRE(b.Glyphs.Size == a.Glyphs.Size);
    for (int glyph = 0; glyph < a.Glyphs.Size; ++glyph) {
      const ImFontGlyph& x = a.Glyphs[glyph];
      const ImFontGlyph& y = b.Glyphs[glyph];
      CHECK((y.Codepoint == x.Codepoint && y.Visible == x.Visible && y.Colored == x.Colored && y.AdvanceX == x.AdvanceX &&
             y.X0 == x.X0 && y.Y0 == x.Y0 && y.X1 == x.X1 && y.Y1 == x.Y1 && y.U0 == x.U0 && y.V0 == x.V0 &&
             y.U1 == x.U1 && y.V1 == x.V1));
    }
    CHECK(b.IndexAdvanceX.Size == a.IndexAdvanceX.Size);
    CHECK(std::equal(a.IndexAdvanceX.begin(), a.IndexAdvanceX.end(), b.IndexAdvanceX.begin(), b.IndexAdvanceX.end()));
    CHECK(std::equal(a.IndexLookup.begin(), a.IndexLookup.end(), b.IndexLookup.begin(), b.IndexLookup.end()));
    const char* text = "Élément, Ωμέγα, Жук, tiếng Việt… 12 345 €";
    const ImVec2 size_a = a.CalcTextSizeA(a.FontSize, 1e9f, 300.0f, text);
    const ImVec2 size_b = b.CalcTextSizeA(b.FontSize, 1e9f, 300.0f, text);
    CHECK(size_b.x == size_a.x);
    CHECK(size_b.y == size_a.y);
  }
}

}  // namespace

TEST_CASE("ui: the font atlas kept on disk comes back as Dear ImGui built it, and is not built again") {
  test::TempDir cache;
  ImFontAtlas built;
  const ui::Fonts fonts = ui::load_fonts(built, {}, cache.path());
  REQUIRE_MESSAGE(!fonts.file.empty(), "install fonts-noto-core");
  CHECK(built.IsBuilt());  // with a cache, load_fonts builds
  const auto [inode, file] = only_file(cache.path());

  ImFontAtlas kept;
  const ui::Fonts again = ui::load_fonts(kept, {}, cache.path());
  CHECK(only_file(cache.path()).first == inode);  // read, not written again
  CHECK(again.file == fonts.file);
  CHECK(again.body == kept.Fonts[0]);
  CHECK(again.heading == kept.Fonts[1]);
  check_same_atlas(built, kept);

  // Another text size is another atlas, kept beside the first.
  ImFontAtlas larger;
  ui::Appearance appearance;
  appearance.text_scale = 1.25f;
  ui::load_fonts(larger, appearance, cache.path());
  CHECK(larger.Fonts[0]->FontSize > built.Fonts[0]->FontSize);
  CHECK(std::distance(std::filesystem::directory_iterator(cache.path()), std::filesystem::directory_iterator()) == 2);
}

TEST_CASE("ui: a damaged kept font atlas is built again and replaced") {
  test::TempDir cache;
  ImFontAtlas first;
  ui::load_fonts(first, {}, cache.path());
  const std::filesystem::path file = only_file(cache.path()).second;
  const std::string whole = files::read_file(file.string());
  for (const std::string& damage : {std::string("not an atlas"), whole.substr(0, whole.size() / 2), std::string()}) {
    CAPTURE(damage.size());
    files::write_file_atomic(file.string(), damage);
    ImFontAtlas rebuilt;
    const ui::Fonts fonts = ui::load_fonts(rebuilt, {}, cache.path());
    REQUIRE(fonts.body != nullptr);
    CHECK(fonts.body->FindGlyphNoFallback(ImWchar(0x1EC7)) != nullptr);
    check_same_atlas(first, rebuilt);
    CHECK(files::read_file(file.string()) == whole);  // kept again, whole
  }
}

TEST_CASE("ui: a kept font atlas is for its request and its font files as they were") {
  const std::optional<std::string> noto = ui::find_font_file("Noto Sans:style=Regular", "Noto Sans");
  REQUIRE_MESSAGE(noto, "install fonts-noto-core");
  test::TempDir dir;
  const std::string font = dir.file("font.ttf");
  files::write_file_atomic(font, files::read_file(*noto));
  ImFontAtlas atlas;
  atlas.AddFontFromFileTTF(font.c_str(), 17.0f);
  atlas.Build();
  const std::string kept = dir.file("kept.atlas");
  ui::save_font_atlas(kept, atlas, {"request", {font}});

  ImFontAtlas back;
  const auto files_named = ui::load_font_atlas(kept, "request", back);
  REQUIRE(files_named);
  CHECK(*files_named == std::vector<std::string>{font});
  check_same_atlas(atlas, back);
  CHECK_FALSE(ui::load_font_atlas(kept, "another request", back));
  CHECK(back.Fonts.empty());
  CHECK_FALSE(ui::load_font_atlas(dir.file("none.atlas"), "request", back));

  files::write_file_atomic(font, files::read_file(*noto) + "x");  // the font changed
  CHECK_FALSE(ui::load_font_atlas(kept, "request", back));
  std::filesystem::remove(font);
  CHECK_FALSE(ui::load_font_atlas(kept, "request", back));

  ImFontAtlas unbuilt;
  unbuilt.AddFontDefault();
  CHECK_THROWS_WITH(ui::save_font_atlas(dir.file("unbuilt.atlas"), unbuilt, {"request", {font}}),
                    doctest::Contains("not built"));
}

TEST_CASE("ui: sizes follow the display's DPI, within what a small screen can show") {
  CHECK(ui::dpi_scale_for(0, 800) == 1.0f);      // unknown DPI
  CHECK(ui::dpi_scale_for(96, 800) == 1.0f);
  CHECK(ui::dpi_scale_for(192, 1600) == 2.0f);  // a high-density laptop
  CHECK(ui::dpi_scale_for(187, 480) == 1.0f);   // a 5-inch 800x480 screen keeps 480 pixels of room
  CHECK(ui::dpi_scale_for(60, 800) == 1.0f);    // never smaller than designed
  CHECK(ui::is_small_screen(800, 480));
  CHECK_FALSE(ui::is_small_screen(1280, 800));
}

TEST_CASE("ui: with square corners nothing is rounded, on a touch screen too") {
  for (const bool touch : {false, true}) {
    ImGuiStyle style;
    ui::Appearance appearance;
    appearance.touch = touch;
    ui::apply_style(style, appearance);
    CHECK(style.FrameRounding > 0);
    appearance.square_corners = true;
    ui::apply_style(style, appearance);
    for (const float rounding : {style.WindowRounding, style.ChildRounding, style.FrameRounding, style.GrabRounding,
                                 style.PopupRounding, style.ScrollbarRounding, style.TabRounding})
      CHECK(rounding == 0.0f);
  }
}
