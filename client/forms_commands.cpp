#include "client/forms_commands.h"

#include "client/attachments.h"
#include "client/submissions.h"
#include "platform/cli_args.h"
#include "platform/files.h"

namespace outpost::client {

using cli::expect_args;
using cli::take_flag;
using cli::take_option;
using cli::UsageError;
using sync::Json;

int forms_command(Home& home, std::vector<std::string> args, std::ostream& out) {
  expect_args(args, 0, "outpost forms");
  for (const FormSummary& form : published_forms(home.replica())) {
    out << Json{{"id", form.id},
                {"version", form.version},
                {"title", form.title},
                {"priority", form.priority},
                {"languages", form.languages}}
               .dump()
        << "\n";
  }
  return 0;
}

int fill_command(Home& home, std::vector<std::string> args, std::ostream& out, std::ostream& err) {
  constexpr char kUsage[] =
      "outpost fill FORM_ID (--answers FILE.json | --submission ID [--answers FILE.json]) [--finalize] [--language KEY]";
  const std::optional<std::string> answers_file = take_option(args, "--answers");
  const std::optional<std::string> draft_id = take_option(args, "--submission");
  const std::string language = take_option(args, "--language").value_or("");
  const bool finalize = take_flag(args, "--finalize");
  expect_args(args, 1, kUsage);
  if (!answers_file && !draft_id) throw UsageError(std::string("usage: ") + kUsage);
  Json answers = Json::object();
  if (answers_file) {
    answers = Json::parse(files::read_file(*answers_file), nullptr, false);
    if (answers.is_discarded()) throw UsageError(*answers_file + " is not JSON");
  }

  const std::unique_ptr<PublishedForm> form =
      draft_id ? load_draft_form(home.replica(), *draft_id) : load_latest_form(home.replica(), args[0]);
  if (draft_id && form->form.settings().form_id != args[0])
    throw ClientError("submission " + *draft_id + " is of form " + form->form.settings().form_id + ", not " + args[0]);
  const auto enrolled = home.enrollment();
  forms::Device device{enrolled ? enrolled->device_id : home.replica().replica_id(), local_now};
  SubmissionDraft draft = draft_id ? SubmissionDraft(home.replica(), *form, language, std::move(device), *draft_id)
                                   : SubmissionDraft(home.replica(), *form, language, std::move(device));
  // Image and file answers are paths: each file is stored, and the answer becomes its name.
  AttachmentStore files(home);
  form_records::rewrite_file_answers(form->form, answers, [&](const forms::Question&, const Json& path,
                                                              const std::string& where) {
    if (!path.is_string()) throw ClientError(*answers_file + ": " + where + ": expected the path of a file");
    if (path.get<std::string>().empty()) return path;
    const auto [name, attachment] = files.add(path.get<std::string>(), *answers_file + ": " + where);
    return Json(draft.add_attachment(name, attachment));
  });
  try {
    form_records::apply_answers(draft.session(), answers);
  } catch (const form_records::RecordError& error) {
    throw ClientError(answers_file.value_or("--submission") + ": " + error.what());
  }

  const std::vector<forms::FieldError> errors = finalize ? draft.finalize() : draft.session().validate();
  for (const forms::FieldError& error : errors) err << "outpost: " << error.describe(form->form) << "\n";
  if (finalize && !errors.empty()) {
    err << "outpost: not finalized: " << errors.size() << (errors.size() == 1 ? " answer needs" : " answers need")
        << " attention; nothing was saved\n";
    return 1;
  }
  if (!finalize) draft.save();
  out << draft.id() << "\n";
  return 0;
}

}  // namespace outpost::client
