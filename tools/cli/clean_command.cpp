// SPDX-License-Identifier: Apache-2.0
// `ipckit rm KIND:NAME...` and `ipckit clean`: removal of named objects, and of what crashed
// programs left behind. The library decides states and what clean selects; each object's state is
// checked again (inventory::find_object) just before it is removed.
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "inventory_output.hpp"

namespace ipckit::cli {
namespace {

struct RmArgs {
  std::vector<std::string> objects;
  bool force = false;
  bool this_ns_only = false;
};

struct CleanArgs {
  bool unused = false;
  bool idle = false;
  bool force = false;
  bool dry_run = false;
  std::vector<std::string> kinds;
  std::string older_than;
  std::string user;
  std::string name;
  std::vector<std::string> paths;
  bool this_ns_only = false;
};

std::string label(const inventory::Object& o) { return fmt::format("{}:{}", inventory::to_string(o.kind), o.name); }

int run_rm(const RmArgs& a) {
  struct Target {
    inventory::Kind kind;
    std::string name;
  };
  std::vector<Target> targets;
  for (const auto& t : a.objects) {
    const auto colon = t.find(':');
    auto kind = colon == std::string::npos ? std::nullopt : inventory::parse_kind(t.substr(0, colon));
    if (!kind || colon + 1 >= t.size()) {
      return inv::usage("rm", "\"" + t + "\" is not KIND:NAME (e.g. posix-shm:/x, sysv-mq:ID, channel:/c); kinds: " +
                                  inv::kind_list());
    }
    targets.push_back({*kind, t.substr(colon + 1)});
  }
  int rc = kExitOk;
  for (const auto& t : targets) {
    inventory::ListOptions lo;
    lo.this_pid_namespace_only = a.this_ns_only;
    auto o = inventory::find_object(t.kind, t.name, lo);
    if (!o) {
      std::fprintf(stderr, "ipckit rm: %s:%s: %s\n", inventory::to_string(t.kind), t.name.c_str(),
                   o.error().str().c_str());
      rc = kExitFailure;
      continue;
    }
    if (auto r = inventory::remove_object(*o, {a.force}); !r) {
      const bool refusable = o->state == inventory::State::kInUse || o->state == inventory::State::kUnknown;
      std::fprintf(stderr, "ipckit rm: %s: %s%s\n", label(*o).c_str(), r.error().str().c_str(),
                   refusable && !a.force ? "; add --force to remove it anyway" : "");
      rc = kExitFailure;
      continue;
    }
    if (auto w = inv::write_stdout("removed " + label(*o) + "\n", "rm")) return *w == kExitOk ? rc : *w;
  }
  return rc;
}

int run_clean(const CleanArgs& a) {
  inventory::CleanFilter f;
  f.unused = a.unused;
  f.idle = a.idle;
  f.force = a.force;
  for (const auto& k : a.kinds) {
    auto kind = inventory::parse_kind(k);
    if (!kind) return inv::usage("clean", "--kind \"" + k + "\" is not a kind; kinds: " + inv::kind_list());
    f.kinds.push_back(*kind);
  }
  if (a.idle && f.kinds.empty()) {
    return inv::usage("clean", "--idle needs --kind (sysv-mq or sysv-sem): idle objects show no holders");
  }
  if (!a.older_than.empty()) {
    auto d = parse_duration(a.older_than, "--older-than");
    if (!d) return inv::usage("clean", d.error().str());
    f.older_than_s = d->count();
  }
  if (!a.user.empty()) {
    f.user = inv::parse_user(a.user);
    if (!f.user) return inv::usage("clean", "--user \"" + a.user + "\" is neither a user name nor a uid");
  }
  f.name_glob = a.name;
  inventory::ListOptions lo;
  lo.kinds = f.kinds;
  if (!a.paths.empty()) lo.paths = a.paths;
  lo.this_pid_namespace_only = a.this_ns_only;
  auto l = inventory::list_objects(lo);
  if (!l) {
    std::fprintf(stderr, "ipckit clean: %s\n", l.error().str().c_str());
    return kExitFailure;
  }
  for (const auto& n : l->notes) std::fprintf(stderr, "ipckit clean: not listed: %s\n", n.c_str());
  int rc = kExitOk;
  std::size_t removed = 0;
  std::string out;
  for (const auto& listed : l->objects) {
    if (!inventory::clean_selects(listed, f, std::time(nullptr))) continue;
    if (a.dry_run) {
      out += fmt::format("would remove {} ({})\n", label(listed), inventory::to_string(listed.state));
      ++removed;
      continue;
    }
    // The state again, just before the removal: a holder may have come back.
    inventory::ListOptions again = lo;
    auto now = inventory::find_object(listed.kind, listed.name, again);
    if (!now) continue;  // gone meanwhile
    std::string why;
    if (!inventory::clean_selects(*now, f, std::time(nullptr), &why)) {
      out += fmt::format("kept {}: {} now\n", label(*now), why);
      continue;
    }
    if (auto r = inventory::remove_object(*now, {false}); !r) {
      std::fprintf(stderr, "ipckit clean: %s: %s\n", label(*now).c_str(), r.error().str().c_str());
      rc = kExitFailure;
      continue;
    }
    out += fmt::format("removed {} ({})\n", label(*now), inventory::to_string(now->state));
    ++removed;
  }
  out += fmt::format("{} object(s) {}\n", removed, a.dry_run ? "would be removed" : "removed");
  if (auto w = inv::write_stdout(out, "clean")) return *w == kExitOk ? rc : *w;
  return rc;
}

}  // namespace

void add_rm_clean_commands(CLI::App& app, Context& ctx) {
  auto rm_args = std::make_shared<RmArgs>();
  CLI::App* rm = app.add_subcommand("rm", "Remove named IPC objects (a channel with all of its objects).");
  rm->add_option("OBJECT", rm_args->objects, "KIND:NAME, e.g. posix-shm:/x posix-mq:/y sysv-mq:ID channel:/c "
                                             "unix-socket:/tmp/s.sock fifo:/tmp/f")
      ->required();
  rm->add_flag("--force", rm_args->force, "remove even an object in use or of unknown state");
  rm->add_flag("--this-pid-namespace-only", rm_args->this_ns_only, inv::kThisNamespaceHelp);
  rm->footer("Kinds: " + inv::kind_list() + "\nExamples:\n  ipckit rm posix-shm:/x sysv-mq:32769\n  ipckit rm channel:/jobs");
  rm->callback([rm_args, &ctx] { ctx.exit_code = run_rm(*rm_args); });

  auto args = std::make_shared<CleanArgs>();
  CLI::App* clean = app.add_subcommand("clean", "Remove what crashed programs left behind (orphaned objects).");
  clean->add_flag("--unused", args->unused, "also remove unused objects (nobody holds them)");
  clean->add_flag("--idle", args->idle, "also remove idle objects (System V queues, semaphore sets; needs --kind)");
  clean->add_flag("--force", args->force, "also remove queues that still hold messages");
  clean->add_flag("--dry-run", args->dry_run, "show what would be removed, remove nothing");
  clean->add_option("--kind", args->kinds, "only this kind (repeatable): " + inv::kind_list())->type_name("KIND");
  clean->add_option("--older-than", args->older_than, "only objects last modified at least this long ago (10min, 2h)")
      ->type_name("DURATION");
  clean->add_option("--user", args->user, "only objects this user (name or uid) owns")->type_name("USER");
  clean->add_option("--name", args->name, "only names matching this glob (e.g. '/ipckit.*')")->type_name("GLOB");
  clean->add_option("--path", args->paths, "directory scanned for socket files and FIFOs (repeatable; default /tmp, /run)")
      ->type_name("DIR");
  clean->add_flag("--this-pid-namespace-only", args->this_ns_only, inv::kThisNamespaceHelp);
  clean->footer(
      "In-use and unknown objects are never removed; each state is checked again just before removal.\n"
      "Exit status: 0, or 1 if a removal failed.\n"
      "Examples:\n  ipckit clean --dry-run\n  ipckit clean\n  ipckit clean --unused --older-than 1h --name '/myapp.*'");
  clean->callback([args, &ctx] { ctx.exit_code = run_clean(*args); });
}

}  // namespace ipckit::cli
