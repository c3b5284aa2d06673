// SPDX-License-Identifier: Apache-2.0
// What ls, stat, rm and clean share: objects as JSON and table text, stdout writes that end quietly
// on a closed pipe (ipckit ls | head -1), and the parsers of --kind, --state, --user. The CLI only
// formats: the library (ipckit/inventory) lists, finds holders and decides states.
#pragma once

#include <pwd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "ipckit/core/ownership.hpp"
#include "ipckit/core/units.hpp"
#include "ipckit/inventory/inventory.hpp"

namespace ipckit::cli::inv {

inline constexpr const char* kThisNamespaceHelp =
    "outside the initial pid namespace (a container), treat this namespace's processes as every possible "
    "holder; without it, holder-based states there are unknown";

// "in-use" etc. as the `--state` list; "posix-shm, posix-mq, ..." as the `--kind` list.
inline std::string kind_list() {
  std::string s;
  for (auto k : inventory::kAllKinds) s += (s.empty() ? "" : ", ") + std::string(inventory::to_string(k));
  return s;
}

// Writes `text` to stdout. A reader that went away (EPIPE: ipckit ls | head -1) ends the output
// quietly with kExitOk; any other failure is one line and kExitFailure. nullopt: written.
inline std::optional<int> write_stdout(const std::string& text, const char* command) {
  if (std::fwrite(text.data(), 1, text.size(), stdout) == text.size() && std::fflush(stdout) == 0) return std::nullopt;
  const int err = errno;
  if (err == EPIPE) return kExitOk;
  std::fprintf(stderr, "ipckit %s: writing to stdout: %s\n", command, std::strerror(err));
  return kExitFailure;
}

inline std::string owner_text(uid_t uid) { return uid == static_cast<uid_t>(-1) ? "-" : user_name(uid); }
inline std::string mode_text(const inventory::Object& o) {
  return o.owner == static_cast<uid_t>(-1) ? "-" : fmt::format("{:04o}", static_cast<unsigned>(o.mode));
}

inline nlohmann::ordered_json participant_json(const ChannelParticipant& p) {
  nlohmann::ordered_json j = {{"role", p.role}, {"pid", p.who.pid}, {"state", to_string(p.state)}};
  if (!p.wait.empty()) j["wait"] = p.wait;
  if (p.role == "subscriber") j["id"] = p.subscriber_id;
  j["sent"] = p.sent;
  j["received"] = p.received;
  if (p.role == "subscriber") j["lapsed"] = p.lapsed;
  return j;
}

inline nlohmann::ordered_json channel_json(const ChannelInfo& c) {
  nlohmann::ordered_json parts = nlohmann::ordered_json::array();
  for (const auto& p : c.participants) parts.push_back(participant_json(p));
  return {{"layout_version", fmt::format("{}.{}", c.version_major, c.version_minor)},
          {"pattern", c.pattern},
          {"capacity", c.capacity},
          {"max_message", c.max_message},
          {"fill", c.fill},
          {"fill_unit", c.fill_unit},
          {"creator_pid", c.creator.pid},
          {"participants", parts},
          {"counters",
           {{"sent", c.sent},
            {"received", c.received},
            {"full_waits", c.full_waits},
            {"empty_waits", c.empty_waits},
            {"futex_wakes", c.futex_wakes},
            {"redelivered", c.redelivered},
            {"reclaimed", c.reclaimed},
            {"lapsed", c.lapsed}}},
          {"objects", c.objects}};
}

inline nlohmann::ordered_json object_json(const inventory::Object& o) {
  nlohmann::ordered_json holders = nlohmann::ordered_json::array();
  for (const auto& h : o.holders) holders.push_back({{"pid", h.pid}, {"command", h.command}});
  nlohmann::ordered_json j = {{"kind", inventory::to_string(o.kind)}, {"name", o.name}};
  if (o.id >= 0) {
    j["id"] = o.id;
    j["key"] = o.key;
  }
  if (o.owner == static_cast<uid_t>(-1)) {
    j["owner"] = nullptr;
    j["mode"] = nullptr;
  } else {
    j["owner"] = user_name(o.owner);
    j["uid"] = o.owner;
    j["mode"] = fmt::format("{:04o}", static_cast<unsigned>(o.mode));
  }
  j["size"] = o.size;
  j["mtime"] = o.mtime;
  j["state"] = inventory::to_string(o.state);
  j["holders"] = holders;
  if (!o.note.empty()) j["note"] = o.note;
  if (o.messages) j["messages"] = *o.messages;
  if (!o.last_pids.empty()) j["last_pids"] = o.last_pids;
  if (o.channel) j["channel"] = channel_json(*o.channel);
  if (!o.parts.empty()) j["parts"] = o.parts;
  return j;
}

// "1234 (cat), 1240 (ipckit)" or the channel's roles, or the last pids: the DETAIL column.
inline std::string detail_text(const inventory::Object& o) {
  std::string s;
  auto add = [&](const std::string& t) { s += (s.empty() ? "" : "; ") + t; };
  if (o.channel) {
    add(fmt::format("{} {}, fill {}", o.channel->pattern, format_size(o.channel->capacity),
                    o.channel->fill_unit == "bytes" ? format_size(o.channel->fill)
                                                    : fmt::format("{} {}", o.channel->fill, o.channel->fill_unit)));
    for (const auto& p : o.channel->participants) add(fmt::format("{} {} {}", p.role, p.who.pid, to_string(p.state)));
  } else {
    std::string h;
    for (const auto& x : o.holders) h += (h.empty() ? "" : ", ") + fmt::format("{} ({})", x.pid, x.command);
    if (!h.empty()) add("held by " + h);
  }
  if (o.messages) add(fmt::format("{} message(s)", *o.messages));
  if (!o.last_pids.empty() && o.holders.empty()) {
    std::string p;
    for (pid_t x : o.last_pids) p += (p.empty() ? "" : ", ") + std::to_string(x);
    add("last pids " + p);
  }
  if ((o.state == inventory::State::kUnknown || o.state == inventory::State::kOrphaned) && !o.note.empty()) add(o.note);
  return s;
}

inline std::string age_text(std::int64_t mtime) {
  const std::int64_t now = std::time(nullptr);
  if (mtime <= 0) return "-";
  return format_duration(Seconds(static_cast<double>(now > mtime ? now - mtime : 0)));
}

// The aligned table with its one-line summary.
inline std::string table_text(const std::vector<inventory::Object>& objects) {
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"KIND", "NAME", "STATE", "OWNER", "MODE", "SIZE", "AGE", "DETAIL"});
  std::size_t orphaned = 0, unused = 0;
  for (const auto& o : objects) {
    orphaned += o.state == inventory::State::kOrphaned ? 1 : 0;
    unused += o.state == inventory::State::kUnused ? 1 : 0;
    rows.push_back({inventory::to_string(o.kind), o.name, inventory::to_string(o.state), owner_text(o.owner),
                    mode_text(o), format_size(o.size), age_text(o.mtime), detail_text(o)});
  }
  std::vector<std::size_t> width(rows[0].size(), 0);
  for (const auto& r : rows) {
    for (std::size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  }
  std::string out;
  for (const auto& r : rows) {
    std::string line;
    for (std::size_t i = 0; i < r.size(); ++i) {
      line += i + 1 == r.size() ? r[i] : fmt::format("{:<{}}  ", r[i], width[i]);
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  out += fmt::format("{} object(s), {} orphaned, {} unused\n", objects.size(), orphaned, unused);
  return out;
}

// --user NAME|UID.
inline std::optional<uid_t> parse_user(const std::string& text) {
  if (struct passwd* pw = ::getpwnam(text.c_str()); pw != nullptr) return pw->pw_uid;
  auto n = parse_count(text, "--user", 0, 0xfffffffeULL);
  if (n) return static_cast<uid_t>(*n);
  return std::nullopt;
}

// One usage line and kExitUsage.
inline int usage(const char* command, const std::string& text) {
  std::fprintf(stderr, "ipckit %s: %s; run ipckit %s --help for the usage\n", command, text.c_str(), command);
  return kExitUsage;
}

}  // namespace ipckit::cli::inv
