// Where the app's read-only files (translation catalogs) are: $OUTPOST_ASSETS, the installed
// share/outpost beside the executable's bin/, or the source tree the program was built from.
#pragma once

#include <string>

namespace outpost::app {

// The first candidate that holds i18n/en.json; throws std::runtime_error listing where it looked.
std::string assets_directory();
std::string i18n_directory();

}  // namespace outpost::app
