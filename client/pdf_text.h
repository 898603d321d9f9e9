// The text layer of a PDF, from poppler, in the module outpost-pdf-text.so (client/modules.h)
// that text_extraction.cpp loads the first time a PDF is indexed: poppler and the libraries only
// it needs cost every start of outpost about 11 ms of CPU before main here.
#pragma once

#include <cstddef>
#include <string>

// Appends the text of the PDF at `path` to `text`, page after page, until it holds at least
// `max_bytes`. False, with nothing appended, when the file is not a readable PDF. What poppler
// says about a damaged file goes to `debug_log`.
extern "C" bool outpost_pdf_text(const char* path, size_t max_bytes, std::string& text,
                                 void (*debug_log)(const std::string& message));
using OutpostPdfText = decltype(&outpost_pdf_text);
inline constexpr char kOutpostPdfTextSymbol[] = "outpost_pdf_text";
