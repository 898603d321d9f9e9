// Surveys and emergency forms: the forms this device holds (urgent ones first and marked), the
// submissions with their sync state, and a submission filled one page (a top-level group or
// question) at a time. Each keystroke goes to the worker, which recomputes calculations, skip
// logic and constraint messages; page changes save the draft there.
#include <algorithm>
#include <sstream>

#include "client/app/i18n.h"
#include "client/app/text.h"
#include "client/ui/screens.h"
#include "client/ui/theme.h"
#include "client/ui/widgets.h"

namespace outpost::ui {

using app::tr;
using app::translator;
using forms::QuestionType;

namespace {

// --- The lists

const char* state_key(app::SubmissionState state) {
  switch (state) {
    case app::SubmissionState::Draft: return "forms.state_draft";
    case app::SubmissionState::Finalized: return "forms.state_waiting";
    case app::SubmissionState::Sent: return "forms.state_sent";
  }
  return "forms.state_draft";
}

void form_list(Frame& frame, const app::FormsOverview& overview) {
  if (overview.forms.empty()) {
    wrapped_text(tr("forms.no_forms"));
    return;
  }
  for (const app::FormEntry& form : overview.forms) {
    if (button(tr("forms.start"), "start." + form.id)) frame.emit(app::StartSubmission{form.id, translator().language()});
    ImGui::SameLine();
    if (form.urgent) {
      colored_text(palette().danger, tr("forms.urgent"));
      ImGui::SameLine();
    }
    ImGui::TextUnformatted(form.title.empty() ? form.id.c_str() : form.title.c_str());
  }
}

void submission_list(Frame& frame, const app::FormsOverview& overview) {
  const auto& submissions = overview.submissions;
  if (submissions.total == 0) {
    muted_text(tr("forms.no_submissions"));
    return;
  }
  const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_SizingStretchProp;
  if (!begin_scrolling_table("submissions_table", 3, flags)) return;
  ImGui::TableSetupScrollFreeze(0, 1);
  ImGui::TableSetupColumn(tr("forms.column_form"), ImGuiTableColumnFlags_WidthStretch, 2.0f);
  ImGui::TableSetupColumn(tr("forms.column_state"), ImGuiTableColumnFlags_WidthStretch, 1.2f);
  ImGui::TableSetupColumn(tr("forms.column_updated"), ImGuiTableColumnFlags_WidthStretch, 1.0f);
  ImGui::TableHeadersRow();
  // Every row as tall as a draft's, whose button it aligns with: the clipper needs one height.
  const auto asked = frame.view.forms.submissions.draw(submissions, ImGui::GetFrameHeightWithSpacing(),
                                                       [&](const app::SubmissionRow& row) {
    ImGui::AlignTextToFramePadding();
    ImGui::TextUnformatted(row.form_title.c_str());
    ImGui::TableNextColumn();
    ImGui::AlignTextToFramePadding();
    const bool sent = row.state == app::SubmissionState::Sent;
    colored_text(sent ? palette().ok : ImGui::GetStyleColorVec4(ImGuiCol_Text), tr(state_key(row.state)));
    if (row.state == app::SubmissionState::Draft) {  // only a draft may be edited
      ImGui::SameLine();
      if (button(tr("forms.reopen"), "reopen." + row.id)) frame.emit(app::ReopenSubmission{row.id, translator().language()});
    }
    ImGui::TableNextColumn();
    ImGui::AlignTextToFramePadding();
    ImGui::TextUnformatted(app::format_ago(row.updated_ms, frame.now_ms).c_str());
  });
  ImGui::EndTable();
  if (asked) frame.emit(app::ListForms{*asked, app::kListWindow});
}

// --- One question

// "name" or "name.0.2" (its repeat entries): the control's stable name.
std::string question_key(const std::string& name, const forms::RepeatPath& path) {
  std::string key = name;
  for (size_t index : path) key += "." + std::to_string(index);
  return key;
}

const char* type_hint(QuestionType type) {
  switch (type) {
    case QuestionType::Date: return "YYYY-MM-DD";
    case QuestionType::Time: return "HH:MM";
    case QuestionType::DateTime: return "YYYY-MM-DDTHH:MM";
    case QuestionType::Integer: return "0";
    case QuestionType::Decimal: return "0.0";
    case QuestionType::Geopoint: return "latitude longitude";
    default: return "";
  }
}

// The text being typed in each field of the page, so a keystroke shows before the worker answers.
std::string& edit_buffer(FormsView& view, const std::string& key, const std::string& answer) {
  return view.edits.emplace(key, answer).first->second;
}

std::vector<std::string> chosen_names(const std::string& answer) {
  std::istringstream words(answer);
  std::vector<std::string> names;
  for (std::string name; words >> name;) names.push_back(name);
  return names;
}

void set_answer(Frame& frame, const app::QuestionView& question, std::string text) {
  frame.emit(app::SetAnswer{question.name, question.path, std::move(text)});
}

void choices_widget(Frame& frame, const app::QuestionView& question, const std::string& key) {
  if (question.type == QuestionType::SelectOne) {
    int current = -1;
    std::vector<std::string> labels;
    for (const app::ChoiceView& choice : question.choices) {
      if (choice.name == question.answer) current = static_cast<int>(labels.size());
      labels.push_back(choice.label);
    }
    if (question.as_list) {
      const int chosen = combo("", "answer." + key, labels, current, tr("forms.choose"));
      if (chosen >= 0) set_answer(frame, question, question.choices[static_cast<size_t>(chosen)].name);
      return;
    }
    for (size_t i = 0; i < question.choices.size(); ++i) {
      const app::ChoiceView& choice = question.choices[i];
      const std::string name = "answer." + key + "." + choice.name;
      if (ImGui::RadioButton((choice.label + "###" + name).c_str(), static_cast<int>(i) == current))
        set_answer(frame, question, choice.name);
      log_last_item(name, choice.label);
    }
    return;
  }
  // select_multiple: the chosen names separated by spaces, in the list's order.
  std::vector<std::string> chosen = chosen_names(question.answer);
  for (const app::ChoiceView& choice : question.choices) {
    bool checked = std::find(chosen.begin(), chosen.end(), choice.name) != chosen.end();
    const std::string name = "answer." + key + "." + choice.name;
    if (ImGui::Checkbox((choice.label + "###" + name).c_str(), &checked)) {
      std::string answer;
      for (const app::ChoiceView& other : question.choices) {
        const bool on = other.name == choice.name ? checked
                                                  : std::find(chosen.begin(), chosen.end(), other.name) != chosen.end();
        if (on) answer += (answer.empty() ? "" : " ") + other.name;
      }
      set_answer(frame, question, answer);
    }
    log_last_item(name, choice.label);
  }
}

// An image or file question: the chosen file's name and size, and a file browser to choose one.
void file_widget(Frame& frame, const app::QuestionView& question, const std::string& key) {
  FormsView& view = frame.view.forms;
  if (question.answer.empty())
    muted_text(tr("forms.no_file"));
  else
    ImGui::TextUnformatted(
        (question.answer + "  (" + app::format_bytes(static_cast<int64_t>(question.file_size)) + ")").c_str());
  const bool open = view.picker_for == key;
  if (button(open ? tr("files.close") : tr("forms.choose_file"), "choose." + key)) {
    view.picker_for = open ? "" : key;
    view.picker.reveal = true;
  }
  if (!question.answer.empty()) {
    ImGui::SameLine();
    if (button(tr("forms.remove_file"), "remove_file." + key)) set_answer(frame, question, "");
  }
  if (view.picker_for != key) return;
  if (const auto chosen = file_picker(frame, view.picker, "files." + key)) {
    frame.emit(app::AttachFile{question.name, question.path, *chosen});
    view.picker_for.clear();
    view.picker.typed.clear();
  }
}

void question_widget(Frame& frame, const app::QuestionView& question) {
  FormsView& view = frame.view.forms;
  const std::string key = question_key(question.name, question.path);
  switch (question.type) {
    case QuestionType::Group: heading(question.label, nullptr); return;
    case QuestionType::Note: wrapped_text(question.label); return;
    case QuestionType::Repeat: {
      if (question.entry_header) {
        heading(question.label, nullptr);
        forms::RepeatPath outer = question.path;
        const size_t index = outer.back();
        outer.pop_back();
        if (!question.fixed_entries && button(tr("forms.remove_entry"), "remove." + key))
          frame.emit(app::RemoveRepeatEntry{question.name, outer, index});
      } else {
        heading(question.label, frame.heading);
        if (!question.fixed_entries && button(tr("forms.add_entry"), "add." + key))
          frame.emit(app::AddRepeatEntry{question.name, question.path});
      }
      return;
    }
    default: break;
  }
  ImGui::TextUnformatted(question.label.c_str());
  if (question.required) {
    ImGui::SameLine();
    colored_text(palette().danger, "*");
  }
  if (!question.hint.empty()) muted_text(question.hint);
  if (question.read_only) {
    ImGui::TextUnformatted(question.answer.empty() ? "\u2014" : question.answer.c_str());
  } else if (forms::is_select(question.type)) {
    choices_widget(frame, question, key);
  } else if (question.type == QuestionType::Image || question.type == QuestionType::File) {
    file_widget(frame, question, key);
  } else if (question.type == QuestionType::Acknowledge) {
    bool acknowledged = question.answer == "OK";
    if (ImGui::Checkbox((tr("forms.acknowledge") + std::string("###answer.") + key).c_str(), &acknowledged))
      set_answer(frame, question, acknowledged ? "OK" : "");
    log_last_item("answer." + key, tr("forms.acknowledge"));
  } else {
    std::string& text = edit_buffer(view, key, question.answer);
    if (input_text("", "answer." + key, text, type_hint(question.type))) set_answer(frame, question, text);
  }
  if (!question.error.empty()) colored_text(palette().danger, question.error);
}

// --- The page

void fill_page(Frame& frame, const app::FillView& fill) {
  FormsView& view = frame.view.forms;
  const std::string page_id = fill.submission_id + "#" + std::to_string(fill.page);
  if (view.edits_for != page_id) {  // another page: its fields start from the model's answers
    view.edits.clear();
    view.edits_for = page_id;
  }
  if (fill.urgent) colored_text(palette().danger, tr("forms.urgent"));
  heading(fill.title, frame.heading);
  const auto& pages = fill.relevant_pages;
  const auto at = std::find(pages.begin(), pages.end(), fill.page);
  const size_t position = static_cast<size_t>(at - pages.begin());
  muted_text(translator().format("forms.page", {{"page", std::to_string(std::min(position, pages.size()) + 1)},
                                                {"pages", std::to_string(std::max<size_t>(pages.size(), 1))}}));
  if (fill.labels_unreadable) muted_text(tr("forms.labels_right_to_left"));
  if (frame.state.forms_problem) show_problem(frame.state.forms_problem->problem, palette().danger);

  const float footer = ImGui::GetFrameHeightWithSpacing() * 2.5f;
  ImGui::BeginChild("page###page", ImVec2(0, -footer), true);
  const float indent = ImGui::GetFontSize();
  for (const app::QuestionView& question : fill.questions) {
    const float depth = indent * static_cast<float>(question.depth);
    if (depth > 0) ImGui::Indent(depth);
    question_widget(frame, question);
    if (depth > 0) ImGui::Unindent(depth);
    ImGui::Spacing();
  }
  for (const std::string& error : fill.errors) colored_text(palette().danger, error);
  ImGui::EndChild();

  const bool has_previous = at != pages.end() && at != pages.begin();
  const bool has_next = at != pages.end() && at + 1 != pages.end();
  if (button(tr("forms.back"), "page_back", has_previous)) frame.emit(app::GoToPage{*(at - 1)});
  ImGui::SameLine();
  if (has_next) {
    if (primary_button(tr("forms.next"), "page_next")) frame.emit(app::GoToPage{*(at + 1)});
  } else if (primary_button(tr("forms.finalize"), "finalize")) {
    frame.emit(app::FinalizeSubmission{});
  }
  ImGui::SameLine();
  if (button(tr("forms.save_close"), "save_close")) frame.emit(app::CloseSubmission{});
}

}  // namespace

void draw_forms(Frame& frame) {
  const app::AppState& state = frame.state;
  if (state.fill) {
    fill_page(frame, *state.fill);
    return;
  }
  FormsView& view = frame.view.forms;
  if (!view.requested) {
    frame.emit(app::ListForms{});
    view.requested = true;
  }
  heading(tr("screen.forms"), frame.heading);
  if (state.forms_problem) show_problem(state.forms_problem->problem, palette().danger);
  form_list(frame, *state.forms);
  ImGui::Spacing();
  heading(tr("forms.submissions"), frame.heading);
  submission_list(frame, *state.forms);
}

int64_t open_drafts(const app::AppState& state) { return state.forms->drafts; }

}  // namespace outpost::ui
