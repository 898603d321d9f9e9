// The outpost window: the screens over the worker's snapshots, drawn only when something
// changed. `outpost [--home DIR] [--software-renderer] [--fullscreen] [--size WxH]
// [--script FILE | --screenshot-dir DIR] [--report-frames]`.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace outpost::client {

// True when `args` hold nothing but --home and the window's own options: no CLI command.
bool wants_window(const std::vector<std::string>& args);
// Runs the window until it is closed (or its script ends). Returns the exit code; a failure is
// one line on `err`, as for the CLI.
int run_window(const std::vector<std::string>& args, std::ostream& err);

}  // namespace outpost::client
