// SPDX-License-Identifier: Apache-2.0
// The JSON report (--json) and reading one back (--compare). schema_version 2 adds fields to 1 and
// changes none: a reader of version 1 reads version 2.
#include <fmt/format.h>

#include "engine/report.hpp"

namespace ipckit::bench {
namespace {

using nlohmann::json;

json opt(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

json list(const std::vector<std::optional<double>>& v) {
  json a = json::array();
  for (const auto& x : v) a.push_back(opt(x));
  return a;
}

json load(const std::optional<LoadAverage>& l) {
  if (!l) return nullptr;
  return json::array({l->one, l->five, l->fifteen});
}

}  // namespace

json to_json(const Report& r) {
  json j;
  j["schema_version"] = r.schema_version;
  j["ipckit_version"] = r.ipckit_version;
  j["command"] = r.command;
  j["date"] = r.date;
  j["hostname"] = r.hostname;
  j["git_revision"] = r.git_revision ? json(*r.git_revision) : json(nullptr);
  j["build"] = {{"compiler", r.build.compiler}, {"flags", r.build.flags}, {"type", r.build.type}};
  j["machine"] = {{"cpus", r.machine.cpus},
                  {"model", r.machine.model},
                  {"kernel", r.machine.kernel},
                  {"clocksource", r.machine.clocksource},
                  {"pinned", {r.machine.pinned[0], r.machine.pinned[1]}},
                  {"cpu_governor", r.machine.cpu_governor ? json(*r.machine.cpu_governor) : json(nullptr)}};
  j["load_average"] = {{"start", load(r.load_start)}, {"end", load(r.load_end)}};
  j["loaded"] = {{"loaded", !r.loaded.empty()}, {"reasons", r.loaded}};
  j["warmup_s"] = r.warmup_s;
  j["duration_s"] = r.duration_s;
  j["wall_s"] = r.wall_s;
  json rows = json::array();
  for (const Row& row : r.results) {
    json x;
    x["mechanism"] = row.mechanism;
    x["pattern"] = std::string(to_string(row.pattern));
    x["size"] = row.size;
    x["placement"] = row.placement;
    x["wait"] = std::string(to_string(row.wait));
    x["procs"] = {{"producers", row.procs.producers}, {"consumers", row.procs.consumers}};
    x["samples"] = row.samples;
    x["msgs_per_s"] = opt(row.msgs_per_s);
    x["rate_of"] = row.rate_of;
    x["sender_msgs_per_s"] = opt(row.sender_msgs_per_s);
    x["bytes_per_s"] = opt(row.bytes_per_s);
    x["rtt_ns"] = {{"p50", opt(row.p50)}, {"p90", opt(row.p90)}, {"p99", opt(row.p99)},
                   {"p999", opt(row.p999)}, {"max", opt(row.max)}};
    x["cpu_ns_per_msg"] = {{"sender", opt(row.cpu_sender)}, {"receiver", opt(row.cpu_receiver)}};
    x["repeats"] = row.repeats;
    x["verified"] = row.verified ? json(*row.verified) : json(nullptr);
    x["limited"] = row.limited ? json(*row.limited) : json(nullptr);
    x["lost"] = row.lost;
    x["zero_copy"] = row.zero_copy;
    x["spread"] = opt(row.spread);
    x["noisy"] = is_noisy(row);
    x["per_repeat"] = {{"msgs_per_s", list(row.per_repeat.msgs_per_s)},
                       {"rtt_p50_ns", list(row.per_repeat.p50)},
                       {"rtt_p99_ns", list(row.per_repeat.p99)},
                       {"cpu_ns_per_msg_sender", list(row.per_repeat.cpu_sender)},
                       {"cpu_ns_per_msg_receiver", list(row.per_repeat.cpu_receiver)}};
    rows.push_back(std::move(x));
  }
  j["results"] = std::move(rows);
  json na = json::array();
  for (const auto& n : r.not_available) na.push_back({{"mechanism", n.mechanism}, {"reason", n.reason}});
  j["not_available"] = std::move(na);
  return j;
}

Result<nlohmann::json> load_report(const std::string& path) {
  auto text = read_text_file(path);
  if (!text) return fail(text.error());
  json j = json::parse(*text, nullptr, false);
  if (j.is_discarded()) return fail_library(LibraryCode::kInvalidArgument, "--compare", ipckit::quoted(path), "not valid JSON");
  const int version = j.is_object() ? j.value("schema_version", 0) : 0;
  if ((version != 1 && version != 2) || !j.contains("results") || !j["results"].is_array()) {
    return fail_library(LibraryCode::kInvalidArgument, "--compare", ipckit::quoted(path),
                        "not an ipckit bench report (schema_version 1 or 2 with results); --compare reads the "
                        "JSON of --json only");
  }
  for (const auto& row : j["results"]) {
    if (!row.is_object()) {
      return fail_library(LibraryCode::kInvalidArgument, "--compare", ipckit::quoted(path), "a result that is not an object");
    }
  }
  return j;
}

}  // namespace ipckit::bench
