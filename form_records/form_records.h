// Forms and submissions as synced records (docs/forms.md):
// - collection `forms`: one record per published version, id FORM_ID@VERSION, holding the
//   definition (the form's sheets, so a device rebuilds it with forms::build_form), and one
//   pointer record per form, id FORM_ID, naming the latest version. Older versions stay, so
//   submissions made with them stay readable after a republish.
// - collection `submissions`: one record per submission, its answers as one JSON object
//   (repeats as arrays of objects, groups flat), with state draft or finalized.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "forms/fill.h"
#include "forms/form.h"
#include "forms/sheet.h"

namespace outpost::form_records {

using Json = nlohmann::json;

constexpr char kFormsCollection[] = "forms";
constexpr char kSubmissionsCollection[] = "submissions";
constexpr char kDraft[] = "draft";
constexpr char kFinalized[] = "finalized";

// A record that does not hold what its collection promises, or answers that do not fit the form.
class RecordError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// --- Forms

// FORM_ID@VERSION ("FORM_ID@" when the form has no version).
std::string form_version_id(const forms::Form& form);

// The fields of a form version's record and of its form's latest pointer.
Json form_version_fields(const forms::Workbook& workbook, const forms::Form& form);
Json latest_pointer_fields(const forms::Form& form);

// Rebuilds the form a version record defines; throws RecordError, or FormError when the
// definition no longer reads.
forms::Form form_from_fields(const Json& fields);

// --- Submissions

// The relevant answers: {"name": "text", "repeat": [{...}, ...]}.
Json answers_json(const forms::FillSession& session);

// Applies answers in that shape (numbers and booleans taken as their text, a select_multiple
// also as an array of choices) in form order, as a person would through the session. Throws
// RecordError naming the key that does not fit.
void apply_answers(forms::FillSession& session, const Json& answers);

struct SubmissionFields {
  std::string form_id;
  std::string form_version;
  std::string state;  // kDraft or kFinalized
  Json answers;
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
  std::string device;
};
Json submission_fields(const SubmissionFields& submission);

}  // namespace outpost::form_records
