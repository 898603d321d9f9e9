// The app model's library: search with filters, pin with progress, unpin, evict, and opening a
// material in the reader (Markdown, text) or the system's viewer (everything else).
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "client/app/app_model.h"
#include "client/text_extraction.h"
#include "sync/blob_store.h"

extern char** environ;

namespace outpost::app {

namespace {

// Results shown for a query; a person refines the words rather than scrolling further.
constexpr size_t kSearchLimit = 200;
// The reader shows files up to this size; larger ones open in the system's viewer.
constexpr uint64_t kMaxReaderBytes = 4 * 1024 * 1024;

bool matches(const client::Material& material, const LibraryFilter& filter) {
  const auto& tags = material.info.tags;
  return (filter.language.empty() || material.info.lang == filter.language) &&
         (filter.theme.empty() || std::find(tags.begin(), tags.end(), filter.theme) != tags.end());
}

bool is_markdown(const sync::MaterialInfo& info) {
  const std::string& name = info.file_name;
  return info.media_type == "text/markdown" ||
         (name.size() > 3 && (name.compare(name.size() - 3, 3, ".md") == 0));
}

bool is_plain_text(const sync::MaterialInfo& info) { return info.media_type == "text/plain"; }

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw client::ClientError("cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

void open_with_system_viewer(const std::string& path) {
  const char* const argv[] = {"xdg-open", path.c_str(), nullptr};
  pid_t pid = 0;
  // posix_spawn's argv is char* const[] for C's sake; it does not write to it.
  const int error = posix_spawnp(&pid, "xdg-open", nullptr, nullptr, const_cast<char* const*>(argv), environ);
  if (error != 0) throw client::ClientError(std::string("cannot start xdg-open: ") + std::strerror(error));
  // Reaped when it ends, so no zombie stays; some viewers keep xdg-open waiting until closed.
  std::thread([pid] { waitpid(pid, nullptr, 0); }).detach();
}

client::Library& AppModel::library() {
  if (!library_) library_ = std::make_unique<client::Library>(home_, options_.cancelled);
  return *library_;
}

Effect AppModel::library_failure(const std::string& material_id, const std::string& key, const std::exception& error) {
  state_.library_problem = ActionProblem{material_id, Problem{key, {}, error.what()}};
  return {};
}

// Runs the current filter again, its window where it is: after a sync, a pin or an eviction.
void AppModel::refresh_library() {
  if (!library_listed_ || !library_) return;
  const LibraryList& shown = *state_.library;
  try {
    read_library(shown.filter, shown.hits.first, shown.hits.refreshed_count(), true);
  } catch (const client::LibraryCancelled&) {
    // The model's owner is closing: the list stays as it was.
  }
}

// Without words, the materials by title that pass the filters, rows [first, first + count) of
// them; with words, the best matches (kSearchLimit at most) that pass them. `measure_storage`:
// the files' storage is measured again (a walk of the store's directory), else kept.
void AppModel::read_library(const LibraryFilter& filter, int64_t first, int64_t count, bool measure_storage) {
  library_->refresh_if_stale();
  auto list = std::make_shared<LibraryList>();
  list->filter = filter;
  const client::CatalogFacets& facets = library_->facets();
  list->languages = facets.languages;
  list->themes = facets.themes;
  auto& hits = list->hits;
  if (filter.query.find_first_not_of(" \t") == std::string::npos) {
    hits.total = library_->count(filter.language, filter.theme);
    const int64_t rows = hits.place(first, count);
    for (client::Material& material : library_->page(filter.language, filter.theme, hits.first, rows))
      hits.rows.push_back({std::move(material), "", 0});
  } else {
    for (client::SearchHit& hit : library_->search(filter.query, kSearchLimit))
      if (matches(hit.material, filter)) hits.rows.push_back(std::move(hit));
    hits.total = static_cast<int64_t>(hits.rows.size());
  }
  if (measure_storage) {
    list->used_bytes = library_->used_bytes();
    list->quota_bytes = library_->quota_bytes();
  } else {
    list->used_bytes = state_.library->used_bytes;
    list->quota_bytes = state_.library->quota_bytes;
  }
  state_.library = std::move(list);
}

Effect AppModel::handle(const SearchLibrary& command) {
  // The files change by pins, evictions and syncs (refresh_library), not by searching or scrolling.
  const bool first_read = !library_listed_;
  library_listed_ = true;
  try {
    library();
    read_library(command.filter, command.first, command.count, first_read);
  } catch (const std::exception& error) {
    auto list = std::make_shared<LibraryList>(*state_.library);
    list->filter = command.filter;
    state_.library = std::move(list);
    return library_failure("", "problem.search_failed", error);
  }
  return {};
}

Effect AppModel::handle(const PinMaterial& command) {
  state_.library_problem.reset();
  const auto enrollment = home_.enrollment();
  if (!enrollment) {
    state_.library_problem = ActionProblem{command.material_id, Problem{"problem.not_enrolled", {}, "not enrolled"}};
    return {};
  }
  try {
    const client::Material material = library().material(command.material_id);
    state_.download = DownloadProgress{command.material_id, material.stored_bytes, material.info.size};
    if (options_.on_download_progress) options_.on_download_progress();
    sync::TransferOptions transfer;
    transfer.sleep = options_.sync.sleep;
    transfer.on_progress = [this](const sync::TransferReport& report) {
      state_.download->done_bytes = report.done_bytes;
      if (options_.on_download_progress) options_.on_download_progress();
    };
    const auto transport = options_.transports(enrollment->registry_url);
    library().pin(command.material_id, *transport, transfer);
  } catch (const sync::QuotaExceeded& error) {
    library_failure(command.material_id, "problem.no_room", error);
  } catch (const std::exception& error) {
    library_failure(command.material_id, "problem.download_failed", error);
  }
  // Done or not, the list shows what is on the device now (a failed download keeps its part).
  state_.download.reset();
  refresh_library();
  return {};
}

Effect AppModel::change_library(const std::string& material_id, const std::function<void(client::Library&)>& change) {
  state_.library_problem.reset();
  try {
    change(library());
  } catch (const std::exception& error) {
    return library_failure(material_id, "problem.library_change_failed", error);
  }
  refresh_library();
  return {};
}

Effect AppModel::handle(const UnpinMaterial& command) {
  return change_library(command.material_id, [&](client::Library& library) { library.unpin(command.material_id); });
}

Effect AppModel::handle(const EvictMaterial& command) {
  return change_library(command.material_id, [&](client::Library& library) {
    library.evict(command.material_id);
    if (state_.reader && state_.reader->material_id == command.material_id) state_.reader.reset();
  });
}

Effect AppModel::handle(const OpenMaterial& command) {
  state_.library_problem.reset();
  try {
    const client::Material material = library().material(command.material_id);
    const std::string path = library().local_path(command.material_id);
    const bool markdown = is_markdown(material.info);
    if ((markdown || is_plain_text(material.info)) && material.info.size <= kMaxReaderBytes) {
      auto document = std::make_shared<ReaderDocument>();
      document->material_id = material.id;
      document->title = material.info.title;
      const std::string text = read_file(path);
      document->blocks = markdown ? client::markdown_blocks(text) : client::text_blocks(text);
      state_.reader = std::move(document);
    } else {
      options_.open_externally(path);
    }
  } catch (const std::exception& error) {
    return library_failure(command.material_id, "problem.open_failed", error);
  }
  return {};
}

Effect AppModel::handle(const CloseReader&) {
  state_.reader.reset();
  return {};
}

}  // namespace outpost::app
