// SPDX-License-Identifier: Apache-2.0
// ipckit — inter-process communication toolkit: bench | send | recv | demo.
#include <csignal>
#include <cstdio>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "ipckit/version.hpp"

int main(int argc, char** argv) {
  // The CLI is an application, so it may choose its signal dispositions: a closed stdout (ipckit recv
  // | head) must end with a clear message and exit code, never a silent SIGPIPE death.
  std::signal(SIGPIPE, SIG_IGN);

  CLI::App app{
      "ipckit: every Linux IPC mechanism as safe C++ types, a fast shared-memory channel, and a\n"
      "benchmark that measures them all side by side on this machine."};
  app.set_version_flag("--version", std::string("ipckit ") + ipckit::kVersionString);
  app.require_subcommand(0, 1);
  ipckit::cli::Context ctx;
  ipckit::cli::add_bench_command(app, ctx);
  ipckit::cli::add_send_recv_commands(app, ctx);
  ipckit::cli::add_demo_command(app, ctx);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (app.get_subcommands().empty()) {
    std::fputs(app.help().c_str(), stdout);
    return 0;
  }
  return ctx.exit_code;
}
