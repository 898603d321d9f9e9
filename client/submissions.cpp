#include "client/submissions.h"

#include <chrono>
#include <ctime>

#include "client/home.h"
#include "platform/crypto.h"

namespace outpost::client {

namespace records = form_records;

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
  const std::string version_id = pointer->values().value("latest", "");
  const auto version = replica.get(records::kFormsCollection, version_id);
  if (!version) throw ClientError("form " + form_id + " names version " + version_id + ", which has not arrived yet: sync again");
  return std::make_unique<PublishedForm>(PublishedForm{version_id, records::form_from_fields(version->values())});
}

SubmissionDraft::SubmissionDraft(sync::Replica& replica, const PublishedForm& form, std::string language,
                                 forms::Device device)
    : replica_(replica),
      form_(form),
      device_(device),
      session_(form.form, std::move(language), std::move(device)),
      id_(crypto::uuid4()),
      created_ms_(device_.clock().epoch_ms) {}

void SubmissionDraft::save() { write(records::kDraft, 0); }

std::vector<forms::FieldError> SubmissionDraft::finalize() {
  std::vector<forms::FieldError> errors = session_.finalize();
  if (errors.empty()) write(records::kFinalized, form_.form.settings().priority);
  return errors;
}

void SubmissionDraft::write(const char* state, int priority) {
  records::SubmissionFields fields{form_.form.settings().form_id,
                                   form_.form.settings().version,
                                   state,
                                   records::answers_json(session_),
                                   created_ms_,
                                   device_.clock().epoch_ms,
                                   device_.device_id};
  replica_.put(records::kSubmissionsCollection, id_, records::submission_fields(fields), priority);
}

}  // namespace outpost::client
