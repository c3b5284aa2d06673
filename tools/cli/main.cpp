// SPDX-License-Identifier: Apache-2.0
// ipckit — inter-process communication toolkit: bench | send | recv | demo | ls | stat | rm | clean | bridge.
//
// Exit codes (docs/cli.md has the table): 0 success · 1 failure · 2 bad usage (one line on stderr
// starting "ipckit: " or "ipckit SUBCOMMAND: ") · 127 pipe: command not found · 130/143 interrupted.
// CLI11's own codes (104-114) never leak: every parse error is mapped to 2 here.
#include <csignal>
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "ipckit/version.hpp"

namespace {

// The subcommand being parsed when CLI11 threw (the deepest one it had started), or "".
std::string failing_subcommand(const CLI::App& app) {
  for (const CLI::App* sub : app.get_subcommands()) return sub->get_name();
  return {};
}

// CLI11's message, reworded where it names its internals.
std::string usage_text(const CLI::ParseError& e, const std::string& sub) {
  std::string what = e.what();
  const std::string extra = "The following argument was not expected: ";
  const std::string extras = "The following arguments were not expected: ";
  for (const std::string& prefix : {extra, extras}) {
    if (what.rfind(prefix, 0) == 0) {
      const std::string arg = what.substr(prefix.size());
      if (!sub.empty()) return "unknown option or extra argument: " + arg;
      const char* kind = arg.rfind("-", 0) == 0 ? "option" : "command";
      if (arg == "version" || arg == "-V" || arg == "-v") {
        return std::string("unknown ") + kind + " \"" + arg + "\"; did you mean --version?";
      }
      return "unknown command or option: " + arg;
    }
  }
  return what;
}

}  // namespace

int main(int argc, char** argv) {
  // The CLI is an application, so it may choose its signal dispositions: a closed stdout (ipckit recv
  // | head) must end with a clear message and exit code, never a silent SIGPIPE death.
  std::signal(SIGPIPE, SIG_IGN);

  // Named "ipckit" so the usage line shows the program's name, not the path it was run by.
  CLI::App app{
      "ipckit: every Linux IPC mechanism as safe C++ types, a fast shared-memory channel, and a\n"
      "benchmark that measures them all side by side on this machine.",
      "ipckit"};
  app.set_version_flag("--version", std::string("ipckit ") + ipckit::kVersionString);
  app.require_subcommand(0, 1);
  ipckit::cli::Context ctx;
  ipckit::cli::add_bench_command(app, ctx);
  ipckit::cli::add_send_recv_commands(app, ctx);
  ipckit::cli::add_demo_command(app, ctx);
  ipckit::cli::add_ls_command(app, ctx);
  ipckit::cli::add_stat_command(app, ctx);
  ipckit::cli::add_rm_clean_commands(app, ctx);
  ipckit::cli::add_bridge_command(app, ctx);
  app.footer(ipckit::cli::top_level_footer());

  if (argc <= 1) {
    std::fputs("ipckit: no command given; run ipckit --help for the commands\n", stderr);
    std::fputs(app.help().c_str(), stderr);
    return ipckit::cli::kExitUsage;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);  // help on stdout, exit 0
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    const std::string sub = failing_subcommand(app);
    const std::string prefix = sub.empty() ? "ipckit" : "ipckit " + sub;
    std::fprintf(stderr, "%s: %s; run %s --help for the usage\n", prefix.c_str(), usage_text(e, sub).c_str(),
                 prefix.c_str());
    return ipckit::cli::kExitUsage;
  }
  if (app.get_subcommands().empty()) {
    // Only options such as a bare "--" were given.
    std::fputs("ipckit: no command given; run ipckit --help for the commands\n", stderr);
    return ipckit::cli::kExitUsage;
  }
  return ctx.exit_code;
}
