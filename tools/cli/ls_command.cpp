// SPDX-License-Identifier: Apache-2.0
// `ipckit ls [--json] [--kind K] [--user U] [--state S] [--path DIR]`: every IPC object on this
// machine with its holders and state (the library's inventory; this file only filters and formats).
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "inventory_output.hpp"

namespace ipckit::cli {
namespace {

struct LsArgs {
  bool json = false;
  std::vector<std::string> kinds;
  std::string user;
  std::vector<std::string> states;
  std::vector<std::string> paths;
  bool this_ns_only = false;
};

int run_ls(const LsArgs& a) {
  inventory::ListOptions lo;
  for (const auto& k : a.kinds) {
    auto kind = inventory::parse_kind(k);
    if (!kind) return inv::usage("ls", "--kind \"" + k + "\" is not a kind; kinds: " + inv::kind_list());
    lo.kinds.push_back(*kind);
  }
  std::vector<inventory::State> states;
  for (const auto& s : a.states) {
    auto st = inventory::parse_state(s);
    if (!st) return inv::usage("ls", "--state \"" + s + "\" is not a state; states: in-use, unused, idle, orphaned, unknown");
    states.push_back(*st);
  }
  std::optional<uid_t> user;
  if (!a.user.empty()) {
    user = inv::parse_user(a.user);
    if (!user) return inv::usage("ls", "--user \"" + a.user + "\" is neither a user name nor a uid");
  }
  if (!a.paths.empty()) lo.paths = a.paths;
  lo.this_pid_namespace_only = a.this_ns_only;
  auto l = inventory::list_objects(lo);
  if (!l) {
    std::fprintf(stderr, "ipckit ls: %s\n", l.error().str().c_str());
    return kExitFailure;
  }
  std::vector<inventory::Object> shown;
  for (auto& o : l->objects) {
    if (user && o.owner != *user) continue;
    if (!states.empty() && std::find(states.begin(), states.end(), o.state) == states.end()) continue;
    shown.push_back(std::move(o));
  }
  for (const auto& n : l->notes) std::fprintf(stderr, "ipckit ls: not listed: %s\n", n.c_str());
  std::string text;
  if (a.json) {
    nlohmann::ordered_json arr = nlohmann::ordered_json::array();
    for (const auto& o : shown) arr.push_back(inv::object_json(o));
    text = arr.dump(2) + "\n";
  } else {
    text = inv::table_text(shown);
  }
  if (auto rc = inv::write_stdout(text, "ls")) return *rc;
  return kExitOk;
}

}  // namespace

void add_ls_command(CLI::App& app, Context& ctx) {
  auto args = std::make_shared<LsArgs>();
  CLI::App* ls = app.add_subcommand("ls", "List every IPC object on this machine, who holds it, and its state.");
  ls->add_flag("--json", args->json, "a JSON array of the objects instead of the table");
  ls->add_option("--kind", args->kinds, "only this kind (repeatable): " + inv::kind_list())->type_name("KIND");
  ls->add_option("--user", args->user, "only objects this user (name or uid) owns")->type_name("USER");
  ls->add_option("--state", args->states, "only this state (repeatable): in-use, unused, idle, orphaned, unknown")
      ->type_name("STATE");
  ls->add_option("--path", args->paths,
                 "directory scanned for socket files and FIFOs (repeatable; default /tmp and /run)")
      ->type_name("DIR");
  ls->add_flag("--this-pid-namespace-only", args->this_ns_only, inv::kThisNamespaceHelp);
  ls->footer(
      "States: in-use (a holder is seen), unused (none is seen), idle (System V queues and semaphore sets,\n"
      "which cannot show holders), orphaned (provably abandoned: safe for ipckit clean), unknown (could not\n"
      "be inspected; never removed by clean).\n"
      "Examples:\n  ipckit ls\n  ipckit ls --state orphaned\n  ipckit ls --json --kind channel");
  ls->callback([args, &ctx] { ctx.exit_code = run_ls(*args); });
}

}  // namespace ipckit::cli
