#include "client/ui/imgui_config.h"

#include <cstdlib>
#include <string>

#include "platform/log.h"

namespace outpost::ui {

namespace {
ImGuiAssertionHandler handler = nullptr;
}  // namespace

void imgui_assertion_failed(const char* expression, const char* file, int line) {
  if (handler) handler(expression, file, line);
  // A handler that returns gets the default ending too: the check failed, going on is undefined.
  log::error(std::string("Dear ImGui check failed: ") + expression + " (" + file + ":" + std::to_string(line) + ")");
  std::abort();
}

void set_imgui_assertion_handler(ImGuiAssertionHandler new_handler) { handler = new_handler; }

}  // namespace outpost::ui
