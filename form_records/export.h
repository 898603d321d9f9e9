// Exporting a form's finalized submissions as CSV files, one per table: the form's questions
// outside repeats, then one file per repeat whose rows point at their parent row (`_parent_id`,
// `_index` counting from 1), so nested repeats (households -> members) join back. With HXL, a
// second row carries each column's hashtag from the form's `hxl` column.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "forms/form.h"

namespace outpost::form_records {

struct ExportedSubmission {
  std::string id;
  nlohmann::json fields;  // as submission_fields() writes them
};

struct ExportFile {
  std::string name;  // FORM_ID.csv, FORM_ID-REPEAT.csv
  std::string text;
};

enum class ExportFormat { csv, hxl };

// Columns follow `form` (the latest version); answers are matched by question name, so
// submissions of older versions export too.
std::vector<ExportFile> export_submissions(const forms::Form& form, const std::vector<ExportedSubmission>& submissions,
                                           ExportFormat format);

// RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled.
std::string csv_line(const std::vector<std::string>& fields);

}  // namespace outpost::form_records
