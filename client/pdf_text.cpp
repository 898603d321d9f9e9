#include "client/pdf_text.h"

#include <poppler-document.h>
#include <poppler-global.h>
#include <poppler-page.h>

#include <atomic>
#include <memory>

namespace {

// poppler has one message handler for the process.
std::atomic<void (*)(const std::string&)> debug_log_in_use{nullptr};

void forward_message(const std::string& message, void*) {
  if (auto debug_log = debug_log_in_use.load()) debug_log("poppler: " + message);
}

}  // namespace

extern "C" bool outpost_pdf_text(const char* path, size_t max_bytes, std::string& text,
                                 void (*debug_log)(const std::string& message)) {
  // poppler prints its complaints about damaged files to stderr; they go to the debug log instead.
  debug_log_in_use = debug_log;
  poppler::set_debug_error_function(forward_message, nullptr);
  const std::unique_ptr<poppler::document> document(poppler::document::load_from_file(path));
  if (!document || document->is_locked()) return false;
  for (int index = 0; index < document->pages() && text.size() < max_bytes; ++index) {
    const std::unique_ptr<poppler::page> page(document->create_page(index));
    if (!page) continue;
    const poppler::byte_array utf8 = page->text().to_utf8();
    text.append(utf8.begin(), utf8.end());
    text += '\n';
  }
  return true;
}
