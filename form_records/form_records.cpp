#include "form_records/form_records.h"

#include <algorithm>
#include <set>
#include <utility>

#include "forms/xlsform_reader.h"
#include "platform/crypto.h"

namespace outpost::form_records {

using forms::FillSession;
using forms::Form;
using forms::Question;
using forms::QuestionType;
using forms::RepeatPath;

namespace {

// --- The definition: the sheets as read, cell by cell

Json workbook_json(const forms::Workbook& workbook) {
  Json sheets = Json::array();
  for (const forms::Sheet& sheet : workbook.sheets) {
    Json rows = Json::array();
    for (const forms::SheetRow& row : sheet.rows) {
      Json cells = Json::object();
      for (const auto& [column, text] : row.cells) cells[std::to_string(column)] = text;
      rows.push_back(Json::array({row.number, std::move(cells)}));
    }
    sheets.push_back({{"name", sheet.name}, {"rows", std::move(rows)}});
  }
  return {{"source", workbook.source}, {"sheets", std::move(sheets)}, {"sheet_names", workbook.sheet_names}};
}

forms::Workbook workbook_from_json(const Json& definition) {
  try {
    forms::Workbook workbook;
    workbook.source = definition.at("source").get<std::string>();
    workbook.sheet_names = definition.at("sheet_names").get<std::vector<std::string>>();
    for (const Json& sheet_json : definition.at("sheets")) {
      forms::Sheet sheet{sheet_json.at("name").get<std::string>(), {}};
      for (const Json& row_json : sheet_json.at("rows")) {
        forms::SheetRow row{row_json.at(0).get<int>(), {}};
        for (const auto& [column, text] : row_json.at(1).items()) row.cells[std::stoul(column)] = text.get<std::string>();
        sheet.rows.push_back(std::move(row));
      }
      workbook.sheets.push_back(std::move(sheet));
    }
    return workbook;
  } catch (const std::exception& error) {  // nlohmann's type and range errors, stoul's
    throw RecordError(std::string("a form record's definition is damaged: ") + error.what());
  }
}

// --- Answers

std::string answer_text(const std::string& key, const Json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number() || value.is_boolean()) return value.dump();
  if (value.is_array()) {
    std::string joined;
    for (const Json& choice : value) {
      if (!choice.is_string()) throw RecordError(key + ": a list of choices holds only text");
      joined += (joined.empty() ? "" : " ") + choice.get<std::string>();
    }
    return joined;
  }
  throw RecordError(key + ": expected text, a number or a list of choices, not " + value.dump());
}

void add_answers(const FillSession& session, const std::vector<size_t>& children, const RepeatPath& path, Json& out) {
  const Form& form = session.form();
  for (size_t index : children) {
    const Question& question = form.questions()[index];
    if (!session.is_relevant(question.name, path)) continue;
    if (question.type == QuestionType::Group) {
      add_answers(session, question.children, path, out);
    } else if (question.type == QuestionType::Repeat) {
      Json entries = Json::array();
      for (size_t entry = 0; entry < session.submission().entries(question.name, path); ++entry) {
        RepeatPath inside = path;
        inside.push_back(entry);
        Json object = Json::object();
        add_answers(session, question.children, inside, object);
        entries.push_back(std::move(object));
      }
      if (!entries.empty()) out[question.name] = std::move(entries);
    } else if (forms::holds_value(question.type)) {
      const std::string& text = session.submission().answer(question.name, path);
      if (!text.empty()) out[question.name] = text;
    }
  }
}

// What to do with answers in the shape answers_json() writes, in form order.
struct AnswerVisitor {
  std::function<void(const Question& repeat, const RepeatPath& path, size_t count)> entries;  // before its entries
  std::function<void(const Question& question, const RepeatPath& path, const Json& value)> answer;
};

// Visits the keys of `object` that name the children (through groups); returns the keys used.
// Throws RecordError naming a repeat that is not a list of objects, or a key of an entry that
// names no question of its repeat.
void visit_container(const Form& form, const std::vector<size_t>& children, const RepeatPath& path, const Json& object,
                     const AnswerVisitor& visitor, std::set<std::string>& used) {
  for (size_t index : children) {
    const Question& question = form.questions()[index];
    if (question.type == QuestionType::Group) {
      visit_container(form, question.children, path, object, visitor, used);
      continue;
    }
    const auto found = object.find(question.name);
    if (found == object.end()) continue;
    used.insert(question.name);
    if (question.type != QuestionType::Repeat) {
      visitor.answer(question, path, *found);
      continue;
    }
    if (!found->is_array()) throw RecordError(question.name + ": a repeat's answers are a list of objects");
    visitor.entries(question, path, found->size());
    for (size_t entry = 0; entry < found->size(); ++entry) {
      const Json& entry_object = (*found)[entry];
      const std::string where = question.name + "[" + std::to_string(entry + 1) + "]";
      if (!entry_object.is_object()) throw RecordError(where + ": an entry's answers are an object");
      RepeatPath inside = path;
      inside.push_back(entry);
      std::set<std::string> entry_used;
      visit_container(form, question.children, inside, entry_object, visitor, entry_used);
      for (const auto& [key, unused] : entry_object.items())
        if (entry_used.count(key) == 0) throw RecordError(where + "." + key + ": not a question of this repeat");
    }
  }
}

void visit_answers(const Form& form, const Json& answers, const AnswerVisitor& visitor) {
  if (!answers.is_object()) throw RecordError("answers are a JSON object: {\"question\": answer, ...}");
  std::set<std::string> used;
  visit_container(form, form.top_level(), {}, answers, visitor, used);
  for (const auto& [key, unused] : answers.items()) {
    if (used.count(key) != 0) continue;
    throw RecordError(key + (form.find(key) == nullptr ? ": the form has no such question"
                                                       : ": not at the top level of the form"));
  }
}

// A change the session refuses, as the record's error about that question.
template <typename Change>
void as_record_error(const Question& question, const Change& change) {
  try {
    change();
  } catch (const forms::FillError& error) {
    throw RecordError(question.name + ": " + error.what());
  }
}

// Visits the answers of image and file questions; `JsonObject` is Json or const Json.
template <typename JsonObject, typename Visit>
void walk_file_answers(const Form& form, const std::vector<size_t>& children, JsonObject& object,
                       const std::string& prefix, const Visit& visit) {
  for (size_t index : children) {
    const Question& question = form.questions()[index];
    if (question.type == QuestionType::Group) {
      walk_file_answers(form, question.children, object, prefix, visit);
      continue;
    }
    const auto found = object.find(question.name);
    if (found == object.end()) continue;
    if (question.type == QuestionType::Repeat) {
      if (!found->is_array()) continue;
      for (size_t entry = 0; entry < found->size(); ++entry) {
        auto& entry_object = (*found)[entry];
        if (entry_object.is_object())
          walk_file_answers(form, question.children, entry_object,
                            prefix + question.name + "[" + std::to_string(entry + 1) + "].", visit);
      }
    } else if (question.type == QuestionType::Image || question.type == QuestionType::File) {
      visit(question, *found, prefix + question.name);
    }
  }
}

bool is_hex_sha256(const std::string& text) {
  return text.size() == 64 && text.find_first_not_of("0123456789abcdef") == std::string::npos;
}

}  // namespace

// --- Forms

std::string form_version_id(const Form& form) { return form.settings().form_id + "@" + form.settings().version; }

std::string form_signing_text(const std::string& id, const Json& fields) {
  Json signed_fields = fields;
  signed_fields.erase(kSignatureField);
  return Json{{"collection", kFormsCollection}, {"id", id}, {"fields", std::move(signed_fields)}}.dump();
}

void verify_form(const std::string& id, const Json& fields, const std::string& registry_key) {
  const auto signature = fields.find(kSignatureField);
  if (signature == fields.end() || !signature->is_string())
    throw RecordError("form " + id + " carries no registry signature (published before forms were signed): " +
                      "publish it again on the registry");
  if (!crypto::signature_valid(form_signing_text(id, fields), signature->get<std::string>(), registry_key))
    throw RecordError("the registry's signature does not match form " + id + ": it was altered after publishing");
}

Json latest_pointer_fields(const Form& form) {
  Json languages = Json::array();
  for (const forms::Language& language : form.languages()) languages.push_back(language.key);
  return {{"form_id", form.settings().form_id}, {"version", form.settings().version},
          {"title", form.settings().form_title}, {"priority", form.settings().priority},
          {"languages", std::move(languages)},  {"latest", form_version_id(form)}};
}

Json form_version_fields(const forms::Workbook& workbook, const Form& form) {
  Json fields = latest_pointer_fields(form);
  fields.erase("latest");
  Json hxl = Json::object();
  for (const Question& question : form.questions()) {
    if (!question.hxl.empty()) hxl[question.name] = question.hxl;
  }
  fields["hxl"] = std::move(hxl);
  fields["definition"] = workbook_json(workbook);
  return fields;
}

Form form_from_fields(const Json& fields) {
  const auto definition = fields.find("definition");
  if (!fields.is_object() || definition == fields.end()) throw RecordError("a form record has no definition");
  return forms::build_form(workbook_from_json(*definition));
}

// --- Submissions

Json answers_json(const FillSession& session) {
  Json answers = Json::object();
  add_answers(session, session.form().top_level(), {}, answers);
  return answers;
}

void apply_answers(FillSession& session, const Json& answers) {
  AnswerVisitor visitor;
  visitor.entries = [&](const Question& repeat, const RepeatPath& path, size_t given) {
    if (!repeat.repeat_count) {
      as_record_error(repeat, [&] {
        for (size_t entry = 0; entry < given; ++entry) session.add_repeat(repeat.name, path);
      });
      return;
    }
    const size_t set = session.submission().entries(repeat.name, path);
    if (set != given)
      throw RecordError(repeat.name + ": the form sets " + std::to_string(set) + " entries, the answers give " +
                        std::to_string(given));
  };
  visitor.answer = [&](const Question& question, const RepeatPath& path, const Json& value) {
    as_record_error(question, [&] { session.set_answer(question.name, path, answer_text(question.name, value)); });
  };
  visit_answers(session.form(), answers, visitor);
}

forms::Submission submission_from_answers(const Form& form, const Json& answers) {
  forms::Submission submission;
  AnswerVisitor visitor;
  visitor.entries = [&](const Question& repeat, const RepeatPath& path, size_t count) {
    submission.set_entries(repeat.name, path, count);
  };
  visitor.answer = [&](const Question& question, const RepeatPath& path, const Json& value) {
    if (!forms::holds_value(question.type)) throw RecordError(question.name + ": holds no answer");
    submission.set_answer(question.name, path, answer_text(question.name, value));
  };
  visit_answers(form, answers, visitor);
  return submission;
}

Json submission_fields(const SubmissionFields& submission) {
  return {{"form_id", submission.form_id},   {"form_version", submission.form_version},
          {"state", submission.state},       {"answers", submission.answers},
          {"created", submission.created_ms}, {"updated", submission.updated_ms},
          {"device", submission.device},     {kAttachmentsField, attachments_json(submission.attachments)}};
}

// --- Attachments

bool is_attachment_name(const std::string& name) {
  if (name.empty() || name.size() > 255 || name == "." || name == "..") return false;
  return std::none_of(name.begin(), name.end(), [](char c) {
    return c == '/' || c == '\\' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
  });
}

Json attachments_json(const Attachments& attachments) {
  Json json = Json::object();
  for (const auto& [name, attachment] : attachments)
    json[name] = {{"sha256", attachment.sha256}, {"size", attachment.size}, {"media_type", attachment.media_type}};
  return json;
}

Attachments attachments_from_json(const Json& json) {
  if (!json.is_object()) throw RecordError("attachments: expected an object {\"file name\": {...}}");
  Attachments attachments;
  for (const auto& [name, entry] : json.items()) {
    const std::string where = "attachments." + name;
    if (!is_attachment_name(name)) throw RecordError(where + ": not a file name (no '/', '\\' or control characters)");
    if (!entry.is_object() || !entry.contains("sha256") || !entry["sha256"].is_string() ||
        !is_hex_sha256(entry["sha256"].get<std::string>()))
      throw RecordError(where + ": sha256 must be 64 lower-case hex digits");
    if (!entry.contains("size") || !entry["size"].is_number_unsigned())
      throw RecordError(where + ": size must be a whole number of bytes");
    attachments[name] = Attachment{entry["sha256"].get<std::string>(), entry["size"].get<uint64_t>(),
                                   entry.value("media_type", "application/octet-stream")};
  }
  return attachments;
}

void for_each_file_answer(const Form& form, const Json& answers, const FileAnswerVisit& visit) {
  if (answers.is_object()) walk_file_answers(form, form.top_level(), answers, "", visit);
}

void rewrite_file_answers(const Form& form, Json& answers, const FileAnswerRewrite& rewrite) {
  if (!answers.is_object()) return;
  walk_file_answers(form, form.top_level(), answers, "",
                    [&](const Question& question, Json& answer, const std::string& where) {
                      answer = rewrite(question, answer, where);
                    });
}

}  // namespace outpost::form_records
