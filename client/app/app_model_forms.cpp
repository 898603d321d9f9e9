// The app model's forms: the published forms, the submissions on this device with their sync
// state, and one submission being filled a page at a time, autosaved as a draft on every page
// change and finalized with its form's priority.
#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <set>

#include "client/app/app_model.h"
#include "client/app/text.h"
#include "client/attachments.h"
#include "form_records/form_records.h"

namespace outpost::app {

namespace {

// More choices than this (or appearance "minimal") show as a drop-down list, not radio buttons.
constexpr size_t kMostRadioChoices = 8;

bool is_english(const forms::Language& language) {
  return language.code == "en" || language.name == "English";
}

// The form's language for labels (docs/ui.md): the interface language when the form has it,
// else English, else the first whose labels are not right-to-left. Empty: none can be shown.
std::string label_language(const forms::Form& form, const std::string& ui_language) {
  const auto& languages = form.languages();
  if (languages.empty()) return forms::kDefaultLanguageKey;
  for (const forms::Language& language : languages)
    if (!language.code.empty() && language.code == ui_language) return language.key;
  for (const forms::Language& language : languages)
    if (is_english(language)) return language.key;
  for (const forms::Language& language : languages) {
    const bool readable = std::none_of(form.questions().begin(), form.questions().end(), [&](const forms::Question& q) {
      const auto found = q.label.find(language.key);
      return found != q.label.end() && has_right_to_left(found->second);
    });
    if (readable) return language.key;
  }
  return "";
}

bool shown_on_page(forms::QuestionType type) {
  return !forms::is_metadata(type);
}

}  // namespace

// --- The list of forms and submissions

Effect AppModel::handle(const ListForms& command) {
  if (!forms_listed_) {
    forms_listed_ = true;
    refresh_forms(command.first, command.count);
    return {};
  }
  // Scrolling: the forms and the counts stay; the window moves.
  auto overview = std::make_shared<FormsOverview>(*state_.forms);
  read_submissions(*overview, command.first, command.count);
  state_.forms = std::move(overview);
  return {};
}

void AppModel::refresh_forms() {
  const auto& window = state_.forms->submissions;
  refresh_forms(window.first, window.refreshed_count());
}

void AppModel::refresh_forms(int64_t first, int64_t count) {
  auto overview = std::make_shared<FormsOverview>();
  sync::Replica& replica = home_.replica();
  for (client::FormSummary& summary : client::published_forms(replica))
    overview->forms.push_back({summary.id, summary.title, summary.version, summary.priority >= forms::kUrgentPriority});
  std::sort(overview->forms.begin(), overview->forms.end(), [](const FormEntry& a, const FormEntry& b) {
    return a.urgent != b.urgent ? a.urgent : a.title < b.title;
  });
  overview->submissions.total = replica.count_live(form_records::kSubmissionsCollection);
  overview->drafts = replica.count_live_with(form_records::kSubmissionsCollection, "state", form_records::kDraft);
  read_submissions(*overview, first, count);
  state_.forms = std::move(overview);
}

// Rows [first, first + count) of the submissions, newest first, into `overview` (whose forms and
// total are current).
void AppModel::read_submissions(FormsOverview& overview, int64_t first, int64_t count) {
  sync::Replica& replica = home_.replica();
  std::map<std::string, std::string> titles;
  for (const FormEntry& form : overview.forms) titles[form.id] = form.title;
  auto& window = overview.submissions;
  const int64_t rows = window.place(first, count);
  replica.for_each_live_record(form_records::kSubmissionsCollection, window.first, rows, [&](sync::Record&& record) {
    SubmissionRow row;
    row.id = std::move(record.id);
    row.updated_ms = record.updated_ms;
    // A record written otherwise (`outpost record put`) names no form: it shows as its id.
    const auto form = record.fields.find("form_id");
    row.form_id = form != record.fields.end() && form->second.value.is_string() ? form->second.value.get<std::string>() : "";
    const auto title = titles.find(row.form_id);
    row.form_title = title != titles.end() ? title->second : row.form_id.empty() ? row.id : row.form_id;
    const auto state = record.fields.find("state");
    const bool draft = state != record.fields.end() && state->second.value == form_records::kDraft;
    row.state = draft ? SubmissionState::Draft : SubmissionState::Sent;  // or still waiting: below
    window.rows.push_back(std::move(row));
  });
  for (SubmissionRow& row : window.rows)
    if (row.state == SubmissionState::Sent && replica.is_queued(form_records::kSubmissionsCollection, row.id))
      row.state = SubmissionState::Finalized;
}

// --- Filling

void AppModel::open_fill(std::unique_ptr<client::PublishedForm> form, const std::string& ui_language,
                         const std::optional<std::string>& draft_id) {
  const std::string language = label_language(form->form, ui_language);
  const auto enrollment = home_.enrollment();
  forms::Device device{enrollment ? enrollment->device_id : home_.replica().replica_id(), client::local_now};
  // The form lives on the heap, so the draft's reference to it survives the move below.
  auto draft =
      draft_id
          ? std::make_unique<client::SubmissionDraft>(home_.replica(), *form, language, std::move(device), *draft_id)
          : std::make_unique<client::SubmissionDraft>(home_.replica(), *form, language, std::move(device));
  // The draft keeps a reference to the form: the form goes after it.
  draft_.reset();
  fill_form_ = std::move(form);
  draft_ = std::move(draft);
  fill_language_ = language;
  fill_page_ = 0;
  fill_errors_.clear();
}

Effect AppModel::handle(const StartSubmission& command) {
  state_.forms_problem.reset();
  try {
    open_fill(client::load_latest_form(home_.replica(), command.form_id), command.ui_language, std::nullopt);
    draft_->save();
  } catch (const std::exception& error) {
    state_.forms_problem = ActionProblem{command.form_id, Problem{"problem.form_unavailable", {}, error.what()}};
    return {};
  }
  refresh_fill();
  return submissions_changed();
}

Effect AppModel::handle(const ReopenSubmission& command) {
  state_.forms_problem.reset();
  try {
    open_fill(client::load_draft_form(home_.replica(), command.submission_id), command.ui_language,
              command.submission_id);
  } catch (const std::exception& error) {
    state_.forms_problem = ActionProblem{command.submission_id, Problem{"problem.form_unavailable", {}, error.what()}};
    return {};
  }
  refresh_fill();
  return {};
}

Effect AppModel::edit_answers(const std::string& name, const std::function<void(forms::FillSession&)>& edit,
                              const char* problem_key) {
  if (!draft_) return {};
  state_.forms_problem.reset();
  try {
    edit(draft_->session());
  } catch (const std::exception& error) {
    state_.forms_problem = ActionProblem{name, Problem{problem_key, {}, error.what()}};
  }
  refresh_fill();
  return {};
}

Effect AppModel::handle(const SetAnswer& command) {
  return edit_answers(command.name, [&](forms::FillSession& session) {
    session.set_answer(command.name, command.path, command.text);
  });
}

// The file is read and copied here, on the worker; the page shows its name and size after.
Effect AppModel::handle(const AttachFile& command) {
  return edit_answers(
      command.name,
      [&](forms::FillSession&) {
        draft_->attach(attachments_, command.name, command.path, command.file);
      },
      "problem.file_refused");
}

Effect AppModel::handle(const ListFolder& command) {
  state_.folder = std::make_shared<FolderListing>(list_folder(command.folder));
  return {};
}

Effect AppModel::handle(const AddRepeatEntry& command) {
  return edit_answers(command.name,
                      [&](forms::FillSession& session) { session.add_repeat(command.name, command.path); });
}

Effect AppModel::handle(const RemoveRepeatEntry& command) {
  return edit_answers(command.name, [&](forms::FillSession& session) {
    session.remove_repeat(command.name, command.path, command.index);
  });
}

// Every page change saves the draft: one transaction, so a device that dies loses one page.
Effect AppModel::handle(const GoToPage& command) {
  if (!draft_) return {};
  const size_t pages = draft_->session().pages().size();
  fill_page_ = std::min(command.page, pages == 0 ? 0 : pages - 1);
  draft_->save();
  refresh_fill();
  return submissions_changed();
}

Effect AppModel::handle(const FinalizeSubmission&) {
  if (!draft_) return {};
  fill_errors_.clear();
  const std::vector<forms::FieldError> errors = draft_->finalize();
  if (!errors.empty()) {
    for (const forms::FieldError& error : errors) fill_errors_.push_back(error.describe(fill_form_->form));
    draft_->save();
    refresh_fill();
    return {};
  }
  close_fill();
  return submissions_changed();
}

Effect AppModel::handle(const CloseSubmission&) {
  if (!draft_) return {};
  draft_->save();
  close_fill();
  return submissions_changed();
}

Effect AppModel::submissions_changed() {
  refresh_forms();
  refresh_status();
  refresh_collections();
  refresh_open_record_views();
  return Effect::wrote_locally();
}

void AppModel::close_fill() {
  draft_.reset();
  fill_form_.reset();
  state_.fill.reset();
}

// The page being filled, as the screen draws it.
void AppModel::refresh_fill() {
  if (!draft_) {
    state_.fill.reset();
    return;
  }
  const forms::FillSession& session = draft_->session();
  const forms::Form& form = fill_form_->form;
  auto view = std::make_shared<FillView>();
  view->submission_id = draft_->id();
  view->form_id = form.settings().form_id;
  view->title = form.settings().form_title;
  view->urgent = form.settings().priority >= forms::kUrgentPriority;
  view->labels_unreadable = fill_language_.empty();
  const std::vector<forms::Page> pages = session.pages();
  for (size_t i = 0; i < pages.size(); ++i)
    if (pages[i].relevant) view->relevant_pages.push_back(i);
  view->page = fill_page_;
  view->errors = fill_errors_;

  auto text_of = [&](const forms::Translations& translations) -> std::string {
    if (fill_language_.empty()) return "";
    std::string text = form.text(translations, fill_language_);
    return has_right_to_left(text) ? "" : text;
  };
  // Adds the question and, for containers, what is inside it, depth first.
  std::function<void(size_t, const forms::RepeatPath&, int)> add = [&](size_t index, const forms::RepeatPath& path,
                                                                       int depth) {
    const forms::Question& question = form.questions()[index];
    if (!shown_on_page(question.type) || !session.is_relevant(question.name, path)) return;
    if (question.type == forms::QuestionType::Calculate && question.label.empty()) return;
    QuestionView item;
    item.name = question.name;
    item.path = path;
    item.type = question.type;
    item.depth = depth;
    item.label = session.expand_references(question.name, path, text_of(question.label));
    if (item.label.empty()) item.label = question.name;
    item.hint = session.expand_references(question.name, path, text_of(question.hint));
    item.appearance = question.appearance;
    if (forms::holds_value(question.type)) {
      item.answer = session.submission().answer(question.name, path);
      const bool names_file = question.type == forms::QuestionType::Image || question.type == forms::QuestionType::File;
      if (const auto file = draft_->attachments().find(item.answer); names_file && file != draft_->attachments().end())
        item.file_size = file->second.size;
      item.required = session.is_required(question.name, path);
      item.read_only = session.is_read_only(question.name, path) || question.type == forms::QuestionType::Calculate;
      if (auto error = session.check(question.name, path)) item.error = error->message;
    }
    if (forms::is_select(question.type)) {
      for (const forms::Choice* choice : session.visible_choices(question.name, path)) {
        std::string label = session.expand_references(question.name, path, text_of(choice->label));
        item.choices.push_back({choice->name, label.empty() ? choice->name : label});
      }
      item.as_list = question.appearance.find("minimal") != std::string::npos || item.choices.size() > kMostRadioChoices;
    }
    if (question.type == forms::QuestionType::Repeat) {
      item.entries = session.submission().entries(question.name, path);
      item.fixed_entries = question.repeat_count.has_value();
    }
    const std::string label = item.label;
    view->questions.push_back(std::move(item));
    if (question.type == forms::QuestionType::Group) {
      for (size_t child : question.children) add(child, path, depth + 1);
    } else if (question.type == forms::QuestionType::Repeat) {
      const size_t entries = session.submission().entries(question.name, path);
      for (size_t entry = 0; entry < entries; ++entry) {
        forms::RepeatPath inner = path;
        inner.push_back(entry);
        QuestionView header;
        header.name = question.name;
        header.path = inner;
        header.type = forms::QuestionType::Repeat;
        header.depth = depth + 1;
        header.entry_header = true;
        header.label = label + " " + std::to_string(entry + 1);
        header.fixed_entries = question.repeat_count.has_value();
        view->questions.push_back(std::move(header));
        for (size_t child : question.children) add(child, inner, depth + 2);
      }
    }
  };
  if (fill_page_ < pages.size()) add(pages[fill_page_].question, {}, 0);
  state_.fill = std::move(view);
}


// --- The file browser's folders

FolderListing list_folder(const std::string& folder) {
  namespace fs = std::filesystem;
  FolderListing listing;
  listing.folder = folder;
  std::error_code error;
  for (fs::directory_iterator it(folder, error), end; !error && it != end; it.increment(error)) {
    const std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    std::error_code ignored;
    const bool is_folder = it->is_directory(ignored);
    if (!is_folder && !it->is_regular_file(ignored)) continue;
    listing.entries.push_back({name, is_folder, is_folder ? 0 : static_cast<uint64_t>(it->file_size(ignored))});
  }
  if (error) listing.error = error.message();
  std::sort(listing.entries.begin(), listing.entries.end(),
            [](const FolderListing::Entry& a, const FolderListing::Entry& b) {
              return a.folder != b.folder ? a.folder : a.name < b.name;
            });
  return listing;
}

}  // namespace outpost::app
