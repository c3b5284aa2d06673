// SPDX-License-Identifier: Apache-2.0
// `ipckit stat URL [--json]`: one object in detail. chan: layout, pattern, capacity and fill, every
// role with pid, command, state and wait mode, and the counters; mq: and sysvmq: attributes and the
// number of queued messages (reading them would consume them).
#include <cstdio>
#include <fstream>
#include <string>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "inventory_output.hpp"
#include "ipckit/endpoint/url.hpp"
#include "ipckit/message/posix_mq.hpp"
#include "ipckit/message/sysv_mq.hpp"

namespace ipckit::cli {
namespace {

struct StatArgs {
  std::string url;
  bool json = false;
};

std::string comm_of(std::int64_t pid) {
  std::string c;
  std::ifstream f(fmt::format("/proc/{}/comm", pid));
  std::getline(f, c);
  return c;
}

std::string channel_text(const ChannelInfo& c) {
  std::string s;
  s += fmt::format("channel {}\n  layout     {}.{}\n  pattern    {}\n  capacity   {}\n  max        {}\n", c.name,
                   c.version_major, c.version_minor, c.pattern, format_size(c.capacity), format_size(c.max_message));
  if (!c.fill_unit.empty()) {
    s += fmt::format("  fill       {}\n",
                     c.fill_unit == "bytes" ? format_size(c.fill) : fmt::format("{} {}", c.fill, c.fill_unit));
  }
  s += fmt::format("  creator    pid {}\n", c.creator.pid);
  s += "  roles\n";
  if (c.participants.empty()) s += "    (none attached)\n";
  for (const auto& p : c.participants) {
    const std::string cmd = p.state == Liveness::kAlive ? comm_of(p.who.pid) : "";
    s += fmt::format("    {:<10} pid {:<7} {:<8} {:<15} {}sent {} received {}{}\n", p.role, p.who.pid,
                     to_string(p.state), p.wait.empty() ? "-" : p.wait, cmd.empty() ? "" : "(" + cmd + ") ",
                     p.sent, p.received, p.role == "subscriber" ? fmt::format(" lapsed {}", p.lapsed) : "");
  }
  s += fmt::format(
      "  counters   sent {} received {} full_waits {} empty_waits {} futex_wakes {} redelivered {} reclaimed {} "
      "lapsed {}\n",
      c.sent, c.received, c.full_waits, c.empty_waits, c.futex_wakes, c.redelivered, c.reclaimed, c.lapsed);
  s += "  objects    ";
  for (std::size_t i = 0; i < c.objects.size(); ++i) s += (i ? " " : "") + c.objects[i];
  return s + "\n";
}

int failure(const Error& e) {
  std::fprintf(stderr, "ipckit stat: %s\n", e.str().c_str());
  return kExitFailure;
}

int run_stat(const StatArgs& a) {
  auto url = parse_url(a.url);
  if (!url) return inv::usage("stat", url.error().str());
  std::string text;
  nlohmann::ordered_json j;
  switch (url->scheme) {
    case Scheme::kChan: {
      auto c = inspect_channel(url->address);
      if (!c) return failure(c.error());
      j = inv::channel_json(*c);
      j["name"] = c->name;
      for (auto& p : j["participants"]) p["command"] = comm_of(p["pid"].get<std::int64_t>());
      text = channel_text(*c);
      break;
    }
    case Scheme::kMq: {
      MqOptions o;
      o.open = OpenMode::kOpenExisting;  // stat looks; it never creates
      o.access = O_RDONLY;
      o.nonblocking = true;
      auto q = PosixMq::open(url->address, o);
      if (!q) return failure(q.error());
      auto st = q->state();
      if (!st) return failure(st.error());
      j = {{"name", url->address},
           {"max_messages", st->max_messages},
           {"message_size", st->message_size},
           {"messages", st->current_messages}};
      text = fmt::format("posix-mq {}\n  max messages  {}\n  message size  {}\n  messages      {}\n", url->address,
                         st->max_messages, format_size(static_cast<std::uint64_t>(st->message_size)),
                         st->current_messages);
      break;
    }
    case Scheme::kSysvMq: {
      key_t key = 0;
      if (url->sysv_key) {
        key = static_cast<key_t>(*url->sysv_key);
      } else {
        auto k = SysvMq::key_for(url->address, url->proj);
        if (!k) return failure(k.error());
        key = *k;
      }
      auto q = SysvMq::open(key, OpenMode::kOpenExisting, 0777);
      if (!q) return failure(q.error());
      auto st = q->stat();
      if (!st) return failure(st.error());
      j = {{"key", st->key},         {"id", q->id()},           {"owner", user_name(st->uid)},
           {"mode", fmt::format("{:04o}", static_cast<unsigned>(st->mode & 0777))},
           {"messages", st->messages}, {"bytes", st->bytes},   {"max_bytes", st->max_bytes},
           {"last_sender", st->last_sender}, {"last_receiver", st->last_receiver}};
      text = fmt::format(
          "sysv-mq {} (key {:#x})\n  owner          {}\n  mode           {:04o}\n  messages       {}\n  bytes          "
          "{} of {}\n  last sender    pid {}\n  last receiver  pid {}\n",
          q->id(), static_cast<unsigned>(st->key), user_name(st->uid), static_cast<unsigned>(st->mode & 0777),
          st->messages, st->bytes, st->max_bytes, st->last_sender, st->last_receiver);
      break;
    }
    default:
      return inv::usage("stat", "stat takes chan:/NAME, mq:/NAME or sysvmq:0xKEY (sysvmq:/PATH?proj=N), not " +
                                    std::string(to_string(url->scheme)) + ":");
  }
  if (auto rc = inv::write_stdout(a.json ? j.dump(2) + "\n" : text, "stat")) return *rc;
  return kExitOk;
}

}  // namespace

void add_stat_command(CLI::App& app, Context& ctx) {
  auto args = std::make_shared<StatArgs>();
  CLI::App* st = app.add_subcommand("stat", "One channel or queue in detail: roles, states, counters, attributes.");
  st->add_option("URL", args->url, "chan:/NAME, mq:/NAME or sysvmq:0xKEY")->required();
  st->add_flag("--json", args->json, "JSON instead of text");
  st->footer("Examples:\n  ipckit stat chan:/jobs\n  ipckit stat mq:/jobs --json\n  ipckit stat sysvmq:0x1234");
  st->callback([args, &ctx] { ctx.exit_code = run_stat(*args); });
}

}  // namespace ipckit::cli
