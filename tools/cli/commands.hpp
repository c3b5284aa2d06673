// SPDX-License-Identifier: Apache-2.0
// Registration of the ipckit subcommands. Each add_*_command() attaches a CLI11 subcommand whose
// callback does the work and stores the process exit code in `exit_code`.
#pragma once

#include <CLI/CLI.hpp>

namespace ipckit::cli {

struct Context {
  int exit_code = 0;
};

// Add one line per subcommand here and in main.cpp.
void add_bench_command(CLI::App& app, Context& ctx);       // bench (bench_command.cpp)
void add_send_recv_commands(CLI::App& app, Context& ctx);  // send, recv (send_recv_command.cpp)
void add_demo_command(CLI::App& app, Context& ctx);        // demo (demo_command.cpp)

}  // namespace ipckit::cli
