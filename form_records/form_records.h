// Forms and submissions as synced records (docs/forms.md):
// - collection `forms`: one record per published version, id FORM_ID@VERSION, holding the
//   definition (the form's sheets, so a device rebuilds it with forms::build_form), and one
//   pointer record per form, id FORM_ID, naming the latest version. Older versions stay, so
//   submissions made with them stay readable after a republish.
// - collection `submissions`: one record per submission, its answers as one JSON object
//   (repeats as arrays of objects, groups flat), with state draft or finalized.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
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
constexpr char kAttachmentsField[] = "attachments";

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

// --- The registry's signature on its forms catalog, so that a form handed over in a bundle or
// by a device nearby is known to be the registry's (materials are signed the same way).
constexpr char kSignatureField[] = "signature";
// What the registry signs for a forms record: its id and every field but the signature, as
// compact JSON with sorted keys.
std::string form_signing_text(const std::string& id, const Json& fields);
// Throws RecordError unless `fields` carry the registry's signature (`registry_key`, hex) of
// themselves.
void verify_form(const std::string& id, const Json& fields, const std::string& registry_key);

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

// The answers as the Submission a FillSession resumes from (a reopened draft): every answer
// and repeat entry as written, nothing validated or recomputed. Throws RecordError naming the
// key that does not fit the form.
forms::Submission submission_from_answers(const forms::Form& form, const Json& answers);

// --- Attachments: the files image and file questions answer with (docs/forms.md). The answer
// is the file's name; the submission's `attachments` field maps each name to the file's
// content hash, by which the file is stored and travels (docs/protocol.md, "Files").

struct Attachment {
  std::string sha256;
  uint64_t size = 0;
  std::string media_type;
};
using Attachments = std::map<std::string, Attachment>;  // by file name

// A name a file may have in a submission and in an export directory: no path separators, not
// "." or "..", no control characters, at most 255 bytes.
bool is_attachment_name(const std::string& name);
Json attachments_json(const Attachments& attachments);
// Throws RecordError naming the entry that is malformed.
Attachments attachments_from_json(const Json& json);

// Calls `visit` with every answer of an image or file question in `answers` (through groups and
// repeats), and `where` as "photo" or "members[2].photo" (entries counted from 1).
using FileAnswerVisit = std::function<void(const forms::Question&, const Json& answer, const std::string& where)>;
void for_each_file_answer(const forms::Form& form, const Json& answers, const FileAnswerVisit& visit);
// The same, each answer replaced by what `rewrite` returns.
using FileAnswerRewrite = std::function<Json(const forms::Question&, const Json& answer, const std::string& where)>;
void rewrite_file_answers(const forms::Form& form, Json& answers, const FileAnswerRewrite& rewrite);

struct SubmissionFields {
  std::string form_id;
  std::string form_version;
  std::string state;  // kDraft or kFinalized
  Json answers;
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
  std::string device;
  Attachments attachments;  // the files its answers name
};
Json submission_fields(const SubmissionFields& submission);

}  // namespace outpost::form_records
