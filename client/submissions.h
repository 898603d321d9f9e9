// Forms and submissions on the device (form_records/form_records.h describes the records): the
// published forms it holds, and a submission being filled, autosaved as a draft record one
// transaction per page change and finalized with its form's priority, so urgent reports leave
// the outbox first. A finalized submission is "sent" once the registry has acknowledged it,
// i.e. once it has left the outbox.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "form_records/form_records.h"
#include "forms/fill.h"
#include "forms/form.h"
#include "sync/replica.h"

namespace outpost::client {

struct FormSummary {
  std::string id;
  std::string version;
  std::string title;
  int priority = 0;
  std::vector<std::string> languages;
};

// The device's clock with its time zone's offset at this instant, for start, end and today().
forms::LocalTime local_now();

// The latest version of each form published to this device, by form id.
std::vector<FormSummary> published_forms(sync::Replica& replica);

struct PublishedForm {
  std::string version_id;  // FORM_ID@VERSION, its record
  forms::Form form;
};

// The latest version of `form_id`; throws ClientError when the device holds no such form.
std::unique_ptr<PublishedForm> load_latest_form(sync::Replica& replica, const std::string& form_id);

class SubmissionDraft {
 public:
  // Starts a submission of `form` (which must outlive the draft); nothing is saved until save().
  SubmissionDraft(sync::Replica& replica, const PublishedForm& form, std::string language, forms::Device device);

  const std::string& id() const { return id_; }
  forms::FillSession& session() { return session_; }

  // Saves the answers as they are: one transaction, when the person changes page.
  void save();
  // Finalizes and saves with the form's priority; returns the errors and saves nothing when
  // there are any.
  std::vector<forms::FieldError> finalize();

 private:
  void write(const char* state, int priority);

  sync::Replica& replica_;
  const PublishedForm& form_;
  forms::Device device_;
  forms::FillSession session_;
  std::string id_;
  int64_t created_ms_;
};

}  // namespace outpost::client
