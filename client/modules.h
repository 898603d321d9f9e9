// Parts of outpost in modules of their own, loaded by their first use: the libraries they need
// would otherwise be mapped and bound at every start (the window's first frame too), and many
// runs never use them. Both sides are built together, so an entry point takes C++ types; only
// its name is unmangled, for dlsym.
//   outpost-pdf-text.so  the text layer of PDFs, from poppler (client/pdf_text.h)
//   outpost-curl.so      HTTP to the registry, libcurl behind sync::Transport (client/curl_module.h)
#pragma once

#include <string>

namespace outpost::client {

// The address of `symbol` in the module `file_name`, found installed beside the program's
// libraries (PREFIX/lib/outpost), next to the binary, or at `build_path` in the build tree.
// Loaded once and never unloaded. Throws ClientError naming every place tried and why.
void* module_symbol(const std::string& file_name, const std::string& build_path, const char* symbol);

}  // namespace outpost::client
