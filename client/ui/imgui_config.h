// Dear ImGui build options for everything that includes imgui.h here (IMGUI_USER_CONFIG).
// Only IM_ASSERT changes, which alters no type layout, so the Debian libimgui.a still fits: the
// checks inlined into this project's code report through a handler that tests make throw, so a
// misuse fails the test that caused it. Checks compiled into libimgui.a still abort.
#pragma once

namespace outpost::ui {
using ImGuiAssertionHandler = void (*)(const char* expression, const char* file, int line);
[[noreturn]] void imgui_assertion_failed(const char* expression, const char* file, int line);
// The default logs the failed check and aborts, as assert() would.
void set_imgui_assertion_handler(ImGuiAssertionHandler handler);
}  // namespace outpost::ui

#define IM_ASSERT(_EXPR) ((_EXPR) ? (void)0 : ::outpost::ui::imgui_assertion_failed(#_EXPR, __FILE__, __LINE__))
