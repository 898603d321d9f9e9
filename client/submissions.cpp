#include "client/submissions.h"

#include <chrono>
#include <ctime>

#include "client/attachments.h"
#include "client/home.h"
#include "platform/crypto.h"

namespace outpost::client {

namespace records = form_records;

namespace {

// The fields of a draft that may be reopened.
sync::Json draft_fields(sync::Replica& replica, const std::string& submission_id) {
  const auto record = replica.get(records::kSubmissionsCollection, submission_id);
  if (!record || record->deleted) throw ClientError("this device has no submission " + submission_id);
  sync::Json fields = record->values();
  if (fields.value("state", "") != records::kDraft)
    throw ClientError("submission " + submission_id + " is finalized; a finalized submission cannot be edited");
  return fields;
}

std::unique_ptr<PublishedForm> load_form_version(sync::Replica& replica, const std::string& version_id) {
  const auto version = replica.get(records::kFormsCollection, version_id);
  if (!version || version->deleted)
    throw ClientError("form version " + version_id + " has not arrived on this device yet: sync again");
  return std::make_unique<PublishedForm>(PublishedForm{version_id, records::form_from_fields(version->values())});
}

}  // namespace

// The device's clock with its time zone's offset at this instant, for start, end and today().
forms::LocalTime local_now() {
  const auto now = std::chrono::system_clock::now();
  const int64_t epoch_ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  std::tm local{};
  localtime_r(&seconds, &local);
  return forms::LocalTime{epoch_ms, static_cast<int>(local.tm_gmtoff / 60)};
}

std::vector<FormSummary> published_forms(sync::Replica& replica) {
  std::vector<FormSummary> forms;
  for (const sync::Record& record : replica.list(records::kFormsCollection)) {
    const sync::Json fields = record.values();
    if (!fields.contains("latest")) continue;  // a version record, not a form's pointer
    FormSummary summary{record.id, fields.value("version", ""), fields.value("title", ""),
                        fields.value("priority", 0), {}};
    for (const sync::Json& language : fields.value("languages", sync::Json::array())) {
      if (language.is_string()) summary.languages.push_back(language.get<std::string>());
    }
    forms.push_back(std::move(summary));
  }
  return forms;
}

std::unique_ptr<PublishedForm> load_latest_form(sync::Replica& replica, const std::string& form_id) {
  const auto pointer = replica.get(records::kFormsCollection, form_id);
  if (!pointer || pointer->deleted) {
    throw ClientError("this device has no form " + form_id + " (sync to receive published forms; `outpost forms` lists them)");
  }
  return load_form_version(replica, pointer->values().value("latest", ""));
}

std::unique_ptr<PublishedForm> load_draft_form(sync::Replica& replica, const std::string& submission_id) {
  const sync::Json fields = draft_fields(replica, submission_id);
  return load_form_version(replica, fields.value("form_id", "") + "@" + fields.value("form_version", ""));
}

SubmissionDraft::SubmissionDraft(sync::Replica& replica, const PublishedForm& form, std::string language,
                                 forms::Device device)
    : replica_(replica),
      form_(form),
      device_(device),
      session_(form.form, std::move(language), std::move(device)),
      id_(crypto::uuid4()),
      created_ms_(device_.clock().epoch_ms) {}

SubmissionDraft::SubmissionDraft(sync::Replica& replica, const PublishedForm& form, std::string language,
                                 forms::Device device, const std::string& submission_id)
    : SubmissionDraft(replica, form, std::move(language), std::move(device), submission_id,
                      draft_fields(replica, submission_id)) {}

SubmissionDraft::SubmissionDraft(sync::Replica& replica, const PublishedForm& form, std::string language,
                                 forms::Device device, const std::string& submission_id, const sync::Json& saved)
    : replica_(replica),
      form_(form),
      device_(device),
      session_(form.form, std::move(language), std::move(device),
               records::submission_from_answers(form.form, saved.value("answers", sync::Json::object()))),
      id_(submission_id),
      created_ms_(saved.value("created", device_.clock().epoch_ms)),
      attachments_(records::attachments_from_json(saved.value(records::kAttachmentsField, sync::Json::object()))) {
  if (records::form_version_id(form.form) != saved.value("form_id", "") + "@" + saved.value("form_version", ""))
    throw ClientError("submission " + submission_id + " was made with another version of " +
                      form.form.settings().form_id);
}

std::string SubmissionDraft::add_attachment(const std::string& name, const records::Attachment& attachment) {
  const size_t dot = name.rfind('.');
  const bool has_extension = dot != std::string::npos && dot > 0;
  const std::string stem = has_extension ? name.substr(0, dot) : name;
  const std::string extension = has_extension ? name.substr(dot) : "";
  std::string unique = name;
  for (int n = 2;; ++n) {
    const auto held = attachments_.find(unique);
    if (held == attachments_.end() || held->second.sha256 == attachment.sha256) break;
    unique = stem + "-" + std::to_string(n) + extension;
  }
  attachments_[unique] = attachment;
  return unique;
}

void SubmissionDraft::attach(AttachmentStore& files, const std::string& question, const forms::RepeatPath& path,
                             const std::string& file) {
  const forms::Question* target = form_.form.find(question);
  if (target == nullptr || (target->type != forms::QuestionType::Image && target->type != forms::QuestionType::File))
    throw forms::FillError(question + " is not an image or file question");
  const auto [name, attachment] =
      target->type == forms::QuestionType::Image ? files.add_image(file, question) : files.add(file, question);
  session_.set_answer(question, path, add_attachment(name, attachment));
}

void SubmissionDraft::save() { write(records::kDraft, 0); }

std::vector<forms::FieldError> SubmissionDraft::finalize() {
  std::vector<forms::FieldError> errors = session_.finalize();
  if (errors.empty()) write(records::kFinalized, form_.form.settings().priority);
  return errors;
}

void SubmissionDraft::write(const char* state, int priority) {
  sync::Json answers = records::answers_json(session_);
  records::Attachments named;  // the files the answers still name
  records::for_each_file_answer(form_.form, answers, [&](const forms::Question&, const sync::Json& answer,
                                                         const std::string&) {
    const auto held = answer.is_string() ? attachments_.find(answer.get<std::string>()) : attachments_.end();
    if (held != attachments_.end()) named.insert(*held);
  });
  records::SubmissionFields fields{form_.form.settings().form_id,
                                   form_.form.settings().version,
                                   state,
                                   std::move(answers),
                                   created_ms_,
                                   device_.clock().epoch_ms,
                                   device_.device_id,
                                   std::move(named)};
  replica_.put(records::kSubmissionsCollection, id_, records::submission_fields(fields), priority);
}

}  // namespace outpost::client
