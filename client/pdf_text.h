// The text layer of a PDF, from poppler, in a module of its own (outpost-pdf-text.so) that
// text_extraction.cpp loads the first time a PDF is indexed: poppler and the libraries only it
// needs would otherwise be mapped and bound at every start of outpost (about 11 ms of CPU before
// main here, on the window's first frame too), and most runs never read a PDF. Both sides are
// built together, so the entry point takes C++ types; only its name is unmangled, for dlsym.
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
