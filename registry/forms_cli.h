// outpost-registry's form commands: `form publish` and `export`.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "registry/service.h"

namespace outpost::registry {

// form publish FILE.xlsx|DIR (--org ORG_ID | --public)
int form_command(Registry& registry, std::vector<std::string> args, std::ostream& out);
// export FORM_ID --format csv|hxl [--out DIR]
int export_command(Registry& registry, std::vector<std::string> args, std::ostream& out);

}  // namespace outpost::registry
