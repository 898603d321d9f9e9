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
// The version of its form a draft was started with, to reopen it. Throws ClientError when there
// is no such submission, when it is finalized (a finalized submission is not edited), or when
// the form version is missing.
std::unique_ptr<PublishedForm> load_draft_form(sync::Replica& replica, const std::string& submission_id);

class AttachmentStore;

class SubmissionDraft {
 public:
  // Starts a submission of `form` (which must outlive the draft); nothing is saved until save().
  SubmissionDraft(sync::Replica& replica, const PublishedForm& form, std::string language, forms::Device device);
  // Reopens the draft `submission_id` of `form` (load_draft_form): its answers, repeat entries
  // and files as last saved.
  SubmissionDraft(sync::Replica& replica, const PublishedForm& form, std::string language, forms::Device device,
                  const std::string& submission_id);

  const std::string& id() const { return id_; }
  forms::FillSession& session() { return session_; }
  const form_records::Attachments& attachments() const { return attachments_; }

  // Keeps a stored file (AttachmentStore::add) under `name`, or under "name-2.ext" when another
  // file of this submission has that name; returns the name to answer with.
  std::string add_attachment(const std::string& name, const form_records::Attachment& attachment);
  // Stores the file at `file` and answers image or file question `question` with it. Throws
  // forms::FillError for another kind of question, what AttachmentStore::add throws for the file.
  void attach(AttachmentStore& files, const std::string& question, const forms::RepeatPath& path,
              const std::string& file);

  // Saves the answers as they are: one transaction, when the person changes page.
  void save();
  // Finalizes and saves with the form's priority; returns the errors and saves nothing when
  // there are any.
  std::vector<forms::FieldError> finalize();

 private:
  SubmissionDraft(sync::Replica& replica, const PublishedForm& form, std::string language, forms::Device device,
                  const std::string& submission_id, const sync::Json& saved);
  void write(const char* state, int priority);

  sync::Replica& replica_;
  const PublishedForm& form_;
  forms::Device device_;
  forms::FillSession session_;
  std::string id_;
  int64_t created_ms_;
  form_records::Attachments attachments_;  // may hold files no answer names any more: write() leaves them out
};

}  // namespace outpost::client
