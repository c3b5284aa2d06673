// SPDX-License-Identifier: Apache-2.0
// Registration of the ipckit subcommands. Each add_*_command() attaches a CLI11 subcommand whose
// callback does the work and stores the process exit code in `exit_code`.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "ipckit/core/error.hpp"

namespace ipckit::cli {

// The exit codes of every subcommand (docs/cli.md, "Exit codes").
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;         // the operation failed: one line on stderr
inline constexpr int kExitUsage = 2;           // bad usage: one line "ipckit[ SUBCOMMAND]: ..."
inline constexpr int kExitCommandNotFound = 127;  // pipe: the command could not be run (as shells do)

struct Context {
  int exit_code = 0;
};

// Add one line per subcommand here and in main.cpp.
void add_bench_command(CLI::App& app, Context& ctx);       // bench (bench_command.cpp)
void add_send_recv_commands(CLI::App& app, Context& ctx);  // send, recv (send_recv_command.cpp)
void add_demo_command(CLI::App& app, Context& ctx);        // demo (demo_command.cpp)
void add_ls_command(CLI::App& app, Context& ctx);          // ls (ls_command.cpp)
void add_stat_command(CLI::App& app, Context& ctx);        // stat (stat_command.cpp)
void add_rm_clean_commands(CLI::App& app, Context& ctx);   // rm, clean (clean_command.cpp)
void add_bridge_command(CLI::App& app, Context& ctx);      // bridge (bridge_command.cpp)

// An endpoint error as a shell user reads it: hints name flags, not C++ (send_recv_command.cpp).
std::string for_shell(const Error& e);

// The footer of `ipckit --help`: the URL forms, examples and exit codes (send_recv_command.cpp).
std::string top_level_footer();

}  // namespace ipckit::cli
