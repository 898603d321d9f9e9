#include "registry/forms_cli.h"

#include <filesystem>
#include <optional>

#include "form_records/export.h"
#include "form_records/form_records.h"
#include "forms/xlsform_reader.h"
#include "platform/cli_args.h"
#include "platform/files.h"
#include "sync/blob_store.h"

namespace outpost::registry {

using cli::expect_args;
using cli::take_flag;
using cli::take_option;
using cli::UsageError;
namespace records = form_records;

namespace {

// The record fields of `id` in `collection`, or nullopt.
std::optional<Json> find_record(Registry& registry, const std::string& collection, const std::string& id) {
  for (auto& [record_id, fields] : registry.records(Registry::cli_admin(), collection)) {
    if (record_id == id) return std::move(fields);
  }
  return std::nullopt;
}

// Each submission's files as DIR/media/SUBMISSION_ID/NAME, the name its answer holds (ODK
// Central's exports keep them in media/ too). A file that has not arrived yet is reported and
// skipped: the device sends it after the record, on a later sync.
void export_attachments(const std::vector<records::ExportedSubmission>& submissions, const std::string& blob_directory,
                        const std::string& directory, std::ostream& out, std::ostream& err) {
  const sync::BlobStore blobs(blob_directory);
  size_t missing = 0;
  for (const records::ExportedSubmission& submission : submissions) {
    records::Attachments attachments;
    try {
      attachments = records::attachments_from_json(submission.fields.value(records::kAttachmentsField, Json::object()));
    } catch (const records::RecordError& error) {
      err << "outpost-registry: submission " << submission.id << ": " << error.what() << "; its files are left out\n";
      continue;
    }
    if (!attachments.empty() && !records::is_attachment_name(submission.id)) {
      err << "outpost-registry: submission " << submission.id
          << ": its id cannot name a folder; its files are left out\n";
      continue;
    }
    for (const auto& [name, attachment] : attachments) {
      if (!blobs.contains(attachment.sha256)) {
        err << "outpost-registry: submission " << submission.id << ": " << name << " (" << attachment.sha256
            << ") has not been uploaded yet\n";
        ++missing;
        continue;
      }
      const std::string folder = directory + "/media/" + submission.id;
      files::ensure_directory(folder);
      const std::string path = folder + "/" + name;
      std::filesystem::copy_file(blobs.path(attachment.sha256), path,
                                 std::filesystem::copy_options::overwrite_existing);
      out << path << "\n";
    }
  }
  if (missing > 0)
    err << "outpost-registry: " << missing << (missing == 1 ? " file is" : " files are")
        << " missing; export again after the devices have synced\n";
}

}  // namespace

int form_command(Registry& registry, std::vector<std::string> args, std::ostream& out) {
  constexpr char kUsage[] = "outpost-registry form publish FILE.xlsx|DIR (--org ORG_ID | --public)";
  const std::optional<std::string> org = take_option(args, "--org");
  const bool is_public = take_flag(args, "--public");
  if (args.empty() || args[0] != "publish") throw UsageError(std::string("usage: ") + kUsage);
  args.erase(args.begin());
  expect_args(args, 1, kUsage);
  if (org.has_value() == is_public) throw UsageError("say who gets the form: --org ORG_ID or --public");

  const forms::Workbook workbook = forms::read_xlsform_workbook(args[0]);
  const forms::Form form = forms::build_form(workbook);  // throws the precise FormError
  const std::string version_id = records::form_version_id(form);
  registry.add_collection(records::kSubmissionsCollection);
  registry.write_records_as_registry(
      Registry::cli_admin(), is_public ? std::string(kPublicPartition) : *org,
      {{records::kFormsCollection, version_id, records::form_version_fields(workbook, form)},
       {records::kFormsCollection, form.settings().form_id, records::latest_pointer_fields(form)}});
  out << "published " << version_id << " (" << form.settings().form_title << ")\n";
  return 0;
}

int export_command(Registry& registry, const std::string& blob_directory, std::vector<std::string> args,
                   std::ostream& out, std::ostream& err) {
  constexpr char kUsage[] = "outpost-registry export FORM_ID --format csv|hxl [--out DIR]";
  const std::string format_name = take_option(args, "--format").value_or("csv");
  const std::string directory = take_option(args, "--out").value_or(".");
  expect_args(args, 1, kUsage);
  if (format_name != "csv" && format_name != "hxl") throw UsageError("--format is csv or hxl, not " + format_name);
  const std::string& form_id = args[0];

  const std::optional<Json> pointer = find_record(registry, records::kFormsCollection, form_id);
  if (!pointer || !pointer->contains("latest")) throw UsageError("no published form " + form_id);
  const std::string latest = pointer->value("latest", "");
  const std::optional<Json> definition = find_record(registry, records::kFormsCollection, latest);
  if (!definition) throw records::RecordError("form " + form_id + " names version " + latest + ", which is missing");
  const forms::Form form = records::form_from_fields(*definition);

  std::vector<records::ExportedSubmission> submissions;
  for (auto& [id, fields] : registry.records(Registry::cli_admin(), records::kSubmissionsCollection)) {
    if (fields.value("form_id", "") == form_id && fields.value("state", "") == records::kFinalized)
      submissions.push_back({id, std::move(fields)});
  }
  const auto format = format_name == "hxl" ? records::ExportFormat::hxl : records::ExportFormat::csv;
  files::ensure_directory(directory);
  for (const records::ExportFile& file : records::export_submissions(form, submissions, format)) {
    const std::string path = directory + "/" + file.name;
    files::write_file_atomic(path, file.text);
    out << path << "\n";
  }
  export_attachments(submissions, blob_directory, directory, out, err);
  return 0;
}

}  // namespace outpost::registry
