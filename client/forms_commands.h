// The `outpost forms` and `outpost fill` commands.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "client/home.h"

namespace outpost::client {

// forms: one JSON line per form (id, version, title, priority, languages).
int forms_command(Home& home, std::vector<std::string> args, std::ostream& out);
// fill FORM_ID (--answers FILE.json | --submission ID [--answers FILE.json]) [--finalize]
// [--language KEY]: fills a new submission, or continues the draft ID; image and file answers
// are paths of files, stored on the device. Prints the submission id.
int fill_command(Home& home, std::vector<std::string> args, std::ostream& out, std::ostream& err);

}  // namespace outpost::client
