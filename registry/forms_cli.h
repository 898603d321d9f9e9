// outpost-registry's form commands: `form publish` and `export`.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "registry/service.h"

namespace outpost::registry {

// form publish FILE.xlsx|DIR (--org ORG_ID | --public)
int form_command(Registry& registry, std::vector<std::string> args, std::ostream& out);
// export FORM_ID --format csv|hxl [--out DIR]: the CSV files, and the submissions' files from
// `blob_directory` in DIR/media/SUBMISSION_ID/NAME; files not uploaded yet are listed on `err`.
int export_command(Registry& registry, const std::string& blob_directory, std::vector<std::string> args,
                   std::ostream& out, std::ostream& err);

}  // namespace outpost::registry
