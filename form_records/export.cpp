#include "form_records/export.h"

#include "platform/clock.h"

namespace outpost::form_records {

using forms::Form;
using forms::Question;
using forms::QuestionType;
using Json = nlohmann::json;

namespace {

struct Table {
  std::string name;
  std::vector<std::string> key_columns;
  std::vector<std::string> key_tags;
  std::vector<const Question*> columns;
  std::vector<std::pair<const Question*, size_t>> repeats;  // nested repeats and their tables
  std::vector<std::vector<std::string>> rows;
};

std::string text_of(const Json& object, const std::string& name) {
  const auto found = object.find(name);
  if (found == object.end() || found->is_null()) return "";
  return found->is_string() ? found->get<std::string>() : found->dump();
}

class Exporter {
 public:
  explicit Exporter(const Form& form) : form_(form) {
    tables_.push_back(Table{form.settings().form_id,
                            {"_submission_id", "_device", "_submitted_at"},
                            {"#meta +id", "#meta +device", "#date +submitted"},
                            {},
                            {},
                            {}});
    collect(form.top_level(), 0);
  }

  void add(const ExportedSubmission& submission) {
    const Json& fields = submission.fields;
    const std::vector<std::string> keys{submission.id, text_of(fields, "device"),
                                        iso_utc(fields.value("updated", int64_t{0}))};
    add_row(0, fields.value("answers", Json::object()), submission.id, keys);
  }

  std::vector<ExportFile> files(ExportFormat format) const {
    std::vector<ExportFile> files;
    for (const Table& table : tables_) {
      std::vector<std::string> header = table.key_columns;
      std::vector<std::string> tags = table.key_tags;
      for (const Question* column : table.columns) {
        header.push_back(column->name);
        tags.push_back(column->hxl);
      }
      std::string text = csv_line(header);
      if (format == ExportFormat::hxl) text += csv_line(tags);
      for (const auto& row : table.rows) text += csv_line(row);
      files.push_back(ExportFile{table.name + ".csv", std::move(text)});
    }
    return files;
  }

 private:
  // The value columns and nested repeats of a table, through groups.
  void collect(const std::vector<size_t>& children, size_t table) {
    for (size_t index : children) {
      const Question& question = form_.questions()[index];
      if (question.type == QuestionType::Group) {
        collect(question.children, table);
      } else if (question.type == QuestionType::Repeat) {
        const size_t nested = tables_.size();
        tables_.push_back(Table{form_.settings().form_id + "-" + question.name,
                                {"_id", "_parent_id", "_index"},
                                {"", "", ""},
                                {},
                                {},
                                {}});
        tables_[table].repeats.emplace_back(&question, nested);
        collect(question.children, nested);
      } else if (forms::holds_value(question.type)) {
        tables_[table].columns.push_back(&question);
      }
    }
  }

  void add_row(size_t table, const Json& answers, const std::string& row_id, std::vector<std::string> cells) {
    for (const Question* column : tables_[table].columns) cells.push_back(text_of(answers, column->name));
    tables_[table].rows.push_back(std::move(cells));
    for (const auto& [repeat, nested] : tables_[table].repeats) {
      const auto entries = answers.find(repeat->name);
      if (entries == answers.end() || !entries->is_array()) continue;
      for (size_t entry = 0; entry < entries->size(); ++entry) {
        const std::string index = std::to_string(entry + 1);
        const std::string entry_id = row_id + "/" + repeat->name + "/" + index;
        add_row(nested, (*entries)[entry], entry_id, {entry_id, row_id, index});
      }
    }
  }

  const Form& form_;
  std::vector<Table> tables_;
};

}  // namespace

std::string csv_line(const std::vector<std::string>& fields) {
  std::string line;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) line += ',';
    const std::string& field = fields[i];
    if (field.find_first_of(",\"\r\n") == std::string::npos) {
      line += field;
      continue;
    }
    line += '"';
    for (char c : field) line += c == '"' ? std::string("\"\"") : std::string(1, c);
    line += '"';
  }
  return line + "\r\n";
}

std::vector<ExportFile> export_submissions(const Form& form, const std::vector<ExportedSubmission>& submissions,
                                           ExportFormat format) {
  Exporter exporter(form);
  for (const ExportedSubmission& submission : submissions) exporter.add(submission);
  return exporter.files(format);
}

}  // namespace outpost::form_records
