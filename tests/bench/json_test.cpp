// SPDX-License-Identifier: Apache-2.0
// The JSON report of a real tiny run has every key of the schema in every row, with the right
// types (schema_version 2: every field of 1, plus the run's date, host, load and per-repeat values);
// CSV has one line per row at full precision; reports of either version load back.
#include <algorithm>
#include <regex>
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "bench_test_util.hpp"
#include "engine/fd_session.hpp"
#include "engine/report.hpp"
#include "support/ipckit_test.hpp"

namespace ipckit::bench {
namespace {

using nlohmann::json;

bool number_or_null(const json& v) { return v.is_null() || v.is_number(); }

void check_schema(const json& j) {
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j.at("schema_version"), 2);
  EXPECT_TRUE(j.at("ipckit_version").is_string());
  EXPECT_TRUE(j.at("command").is_string());
  // Added by version 2, at the top level.
  const std::string date = j.at("date");
  EXPECT_TRUE(std::regex_match(date, std::regex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"))) << date;
  EXPECT_TRUE(j.at("hostname").is_string());
  EXPECT_FALSE(j.at("hostname").get<std::string>().empty());
  EXPECT_TRUE(j.at("git_revision").is_string() || j.at("git_revision").is_null());
  for (const char* k : {"start", "end"}) {
    const json& l = j.at("load_average").at(k);
    ASSERT_TRUE(l.is_array()) << k;  // /proc/loadavg is readable on Linux
    EXPECT_EQ(l.size(), 3u);
    for (const json& v : l) EXPECT_TRUE(v.is_number());
  }
  EXPECT_TRUE(j.at("loaded").at("loaded").is_boolean());
  EXPECT_TRUE(j.at("loaded").at("reasons").is_array());
  EXPECT_EQ(j.at("loaded").at("loaded").get<bool>(), !j.at("loaded").at("reasons").empty());
  EXPECT_TRUE(j.at("warmup_s").is_number());
  EXPECT_TRUE(j.at("duration_s").is_number());
  EXPECT_TRUE(j.at("machine").at("cpu_governor").is_string() || j.at("machine").at("cpu_governor").is_null());
  for (const char* k : {"compiler", "flags", "type"}) EXPECT_TRUE(j.at("build").at(k).is_string()) << k;
  const json& m = j.at("machine");
  EXPECT_TRUE(m.at("cpus").is_number_integer());
  EXPECT_GE(m.at("cpus").get<int>(), 1);
  for (const char* k : {"model", "kernel", "clocksource"}) EXPECT_TRUE(m.at(k).is_string()) << k;
  ASSERT_TRUE(m.at("pinned").is_array());
  EXPECT_EQ(m.at("pinned").size(), 2u);
  const std::set<std::string> row_keys = {"mechanism", "pattern", "size", "placement", "wait", "procs",
                                          "samples", "msgs_per_s", "rate_of", "sender_msgs_per_s", "bytes_per_s",
                                          "rtt_ns", "cpu_ns_per_msg", "repeats", "verified", "limited", "lost",
                                          "zero_copy", "spread", "noisy", "per_repeat"};
  ASSERT_TRUE(j.at("results").is_array());
  ASSERT_FALSE(j.at("results").empty());
  for (const json& r : j.at("results")) {
    SCOPED_TRACE(r.dump());
    std::set<std::string> keys;
    for (auto it = r.begin(); it != r.end(); ++it) keys.insert(it.key());
    EXPECT_EQ(keys, row_keys);
    EXPECT_TRUE(r.at("mechanism").is_string());
    EXPECT_TRUE(r.at("pattern") == "throughput" || r.at("pattern") == "rtt");
    EXPECT_TRUE(r.at("size").is_number_unsigned());
    EXPECT_TRUE(r.at("placement") == "cross-cpu" || r.at("placement") == "same-cpu" || r.at("placement") == "in-process");
    const std::string wait = r.at("wait");
    EXPECT_TRUE(wait == "busy" || wait == "spin-futex" || wait == "blocking" || wait == "epoll");
    EXPECT_TRUE(r.at("procs").at("producers").is_number_integer());
    EXPECT_TRUE(r.at("procs").at("consumers").is_number_integer());
    EXPECT_TRUE(r.at("samples").is_number_unsigned());
    EXPECT_TRUE(number_or_null(r.at("msgs_per_s")));
    const std::string rate_of = r.at("rate_of");
    EXPECT_TRUE(rate_of == "receiver" || rate_of == "all-consumers" || rate_of == "per-subscriber" ||
                rate_of == "round-trips");
    EXPECT_EQ(rate_of == "round-trips", r.at("pattern") == "rtt");
    EXPECT_TRUE(number_or_null(r.at("sender_msgs_per_s")));
    EXPECT_TRUE(number_or_null(r.at("bytes_per_s")));
    EXPECT_EQ(r.at("rtt_ns").size(), 5u);
    for (const char* q : {"p50", "p90", "p99", "p999", "max"}) EXPECT_TRUE(number_or_null(r.at("rtt_ns").at(q))) << q;
    EXPECT_EQ(r.at("cpu_ns_per_msg").size(), 2u);
    EXPECT_TRUE(number_or_null(r.at("cpu_ns_per_msg").at("sender")));
    EXPECT_TRUE(number_or_null(r.at("cpu_ns_per_msg").at("receiver")));
    EXPECT_TRUE(r.at("repeats").is_number_integer());
    EXPECT_TRUE(r.at("verified").is_boolean() || (r.at("verified").is_null() && r.at("limited").is_string()));
    EXPECT_TRUE(r.at("limited").is_null() || r.at("limited").is_string());
    EXPECT_TRUE(r.at("lost").is_number_unsigned());
    EXPECT_TRUE(r.at("zero_copy").is_boolean());
    // Version 2: the spread (null with fewer than two repeats), the noisy flag, and one value per
    // repeat of every figure a verdict is made from.
    EXPECT_TRUE(number_or_null(r.at("spread")));
    if (r.at("spread").is_number()) {
      EXPECT_EQ(r.at("noisy").get<bool>(), r.at("spread").get<double>() > 0.2);
    } else {
      EXPECT_FALSE(r.at("noisy").get<bool>());
    }
    for (const char* k : {"msgs_per_s", "rtt_p50_ns", "rtt_p99_ns", "cpu_ns_per_msg_sender", "cpu_ns_per_msg_receiver"}) {
      const json& v = r.at("per_repeat").at(k);
      ASSERT_TRUE(v.is_array()) << k;
      EXPECT_EQ(v.size(), r.at("repeats").get<std::size_t>()) << k;
      for (const json& x : v) EXPECT_TRUE(number_or_null(x)) << k;
    }
    if (r.at("pattern") == "throughput") {
      EXPECT_TRUE(r.at("rtt_ns").at("p50").is_null());
    } else {
      EXPECT_TRUE(r.at("sender_msgs_per_s").is_null());
    }
  }
  ASSERT_TRUE(j.at("not_available").is_array());
  for (const json& n : j.at("not_available")) {
    EXPECT_TRUE(n.at("mechanism").is_string());
    EXPECT_TRUE(n.at("reason").is_string());
  }
}

TEST(BenchJson, RealTinyRunFollowsTheSchema) {
  auto o = test::tiny({"pipe", "posix-mq", "memcpy", "atomic-pingpong", "channel-broadcast-2", "channel-mpmc-2x2"});
  o.sizes = {64, 65536};
  auto report = run_bench(o);
  ASSERT_TRUE(report) << report.error().str();
  const json j = json::parse(to_json(*report).dump());
  check_schema(j);
  // posix-mq at 64 KiB is limited by msgsize_max (8192 by default) unless this machine raised it.
  bool saw_limited = false;
  for (const json& r : j["results"]) saw_limited = saw_limited || r["limited"].is_string();
  if (read_proc_number("/proc/sys/fs/mqueue/msgsize_max").value_or(0) < 65536) {
    EXPECT_TRUE(saw_limited);
  }
  // Each row says what its msgs/s is, and records its processes.
  for (const json& r : j["results"]) {
    SCOPED_TRACE(r.dump());
    if (r["pattern"] == "rtt") continue;
    if (r["mechanism"] == "channel-broadcast-2") {
      EXPECT_EQ(r["rate_of"], "per-subscriber");
      EXPECT_EQ(r["procs"], json({{"producers", 1}, {"consumers", 2}}));
    } else if (r["mechanism"] == "channel-mpmc-2x2") {
      EXPECT_EQ(r["rate_of"], "all-consumers");
      EXPECT_EQ(r["procs"], json({{"producers", 2}, {"consumers", 2}}));
    } else {
      EXPECT_EQ(r["rate_of"], "receiver");
    }
    if (r["limited"].is_null() && r["samples"].get<std::uint64_t>() > 0) {
      EXPECT_TRUE(r["sender_msgs_per_s"].is_number());
    }
  }
  EXPECT_TRUE(j["not_available"].empty()) << j["not_available"].dump();
  // CSV: a header and one line per row.
  const std::string csv = to_csv(*report);
  EXPECT_EQ(static_cast<std::size_t>(std::count(csv.begin(), csv.end(), '\n')), report->results.size() + 1);
  EXPECT_EQ(csv.rfind("mechanism,pattern,size,", 0), 0u);
  EXPECT_NE(csv.find(",rate_of,sender_msgs_per_s\n"), std::string::npos);
  // The table names every row's mechanism, and explains the rows with several processes.
  const std::string table = format_table(*report);
  for (const char* name : {"pipe", "posix-mq", "memcpy", "atomic-pingpong", "channel-broadcast-2", "channel-mpmc-2x2",
                           "SEVERAL PROCESSES", "per-subscriber", "all-consumers", "limited: msgsize_max="}) {
    if (std::string(name) == "limited: msgsize_max=" && !saw_limited) continue;
    EXPECT_NE(table.find(name), std::string::npos) << name;
  }
}

TEST(BenchJson, TableListsMechanismsNotAvailableWithTheirReason) {
  Report r;
  r.not_available.push_back({"zmq-ipc", "not built: libzmq3-dev not found at configure time"});
  const std::string table = format_table(r);
  EXPECT_NE(table.find("Not available:"), std::string::npos);
  EXPECT_NE(table.find("zmq-ipc: not built: libzmq3-dev"), std::string::npos) << table;
  const json na = to_json(r)["not_available"];
  ASSERT_EQ(na.size(), 1u);
  EXPECT_EQ(na[0]["mechanism"], "zmq-ipc");
  EXPECT_EQ(na[0]["reason"], "not built: libzmq3-dev not found at configure time");
}

TEST(BenchJson, QuickTableSaysIndicativeAndShowsP50P99) {
  Report r;
  r.quick = true;
  Row row;
  row.mechanism = "pipe";
  row.pattern = Pattern::kRtt;
  row.size = 64;
  row.placement = "cross-cpu";
  row.samples = 50;
  row.p50 = 40000;
  row.max = 90000;
  row.verified = true;
  r.results.push_back(row);
  const std::string table = format_table(r);
  EXPECT_NE(table.find("indicative"), std::string::npos);
  EXPECT_EQ(table.find("p99.9"), std::string::npos);
  EXPECT_NE(table.find("n/a"), std::string::npos);  // p99 from 50 samples is not printed
  EXPECT_NE(table.find("40.0 us"), std::string::npos);
}

TEST(BenchJson, PerRepeatValuesGiveTheMedianAndTheSpread) {
  auto o = test::tiny({"pipe", "atomic-pingpong"});
  o.repeats = 3;
  auto report = run_bench(o);
  ASSERT_TRUE(report) << report.error().str();
  const json j = to_json(*report);
  for (const json& r : j["results"]) {
    SCOPED_TRACE(r.dump());
    if (r["pattern"] != "throughput") continue;
    std::vector<double> v;
    for (const json& x : r["per_repeat"]["msgs_per_s"]) {
      if (x.is_number()) v.push_back(x.get<double>());
    }
    ASSERT_EQ(v.size(), 3u);
    std::sort(v.begin(), v.end());
    EXPECT_DOUBLE_EQ(r["msgs_per_s"].get<double>(), v[1]);
    EXPECT_DOUBLE_EQ(r["spread"].get<double>(), (v[2] - v[0]) / v[1]);
  }
}

TEST(BenchCsv, FullPrecisionAndNoSpreadWithOneRepeat) {
  Report r;
  Row row;
  row.mechanism = "pipe";
  row.size = 64;
  row.placement = "cross-cpu";
  row.msgs_per_s = 41068612.345678;
  row.bytes_per_s = 41068612.345678 * 64;
  row.repeats = 1;
  row.verified = true;
  row.rate_of = "receiver";
  r.results.push_back(row);
  row.repeats = 3;
  row.spread = 0.125;
  r.results.push_back(row);
  const std::string csv = to_csv(r);
  // The shortest text that reads back as the same double, never 6 significant digits.
  EXPECT_NE(csv.find(",41068612.345678,"), std::string::npos) << csv;
  EXPECT_EQ(csv.find("4.10686e+07"), std::string::npos) << csv;
  // One repeat: no spread (an empty cell), not "0.0000"; three: the value.
  EXPECT_NE(csv.find(",1,,true,"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",3,0.125,true,"), std::string::npos) << csv;
}

TEST(BenchJson, LoadReadsSchemaOneAndTwo) {
  ::ipckit::test::TempDir dir;
  for (int version : {1, 2}) {
    const json j = {{"schema_version", version}, {"results", json::array()}};
    const std::string path = dir.file("v" + std::to_string(version) + ".json");
    ASSERT_TRUE(write_text_file(path, j.dump()));
    auto loaded = load_report(path);
    ASSERT_TRUE(loaded) << loaded.error().str();
    EXPECT_EQ((*loaded)["schema_version"], version);
  }
  ASSERT_TRUE(write_text_file(dir.file("v3.json"), R"({"schema_version": 3, "results": []})"));
  EXPECT_TRUE(::ipckit::test::FailsWith(load_report(dir.file("v3.json")), {"schema_version 1 or 2", "JSON"}));
}

TEST(BenchJson, LoadRejectsFilesThatAreNotReports) {
  ::ipckit::test::TempDir dir;
  ASSERT_TRUE(write_text_file(dir.file("a.json"), "{\"hello\": 1}"));
  EXPECT_TRUE(::ipckit::test::FailsWith(load_report(dir.file("a.json")), {"not an ipckit bench report"}));
  // --compare reads JSON only: a CSV report is refused with a clear reason.
  ASSERT_TRUE(write_text_file(dir.file("c.csv"), "mechanism,pattern\npipe,throughput\n"));
  EXPECT_TRUE(::ipckit::test::FailsWith(load_report(dir.file("c.csv")), {"not valid JSON"}));
  ASSERT_TRUE(write_text_file(dir.file("b.json"), "{nope"));
  EXPECT_TRUE(::ipckit::test::FailsWith(load_report(dir.file("b.json")), {"not valid JSON"}));
}

}  // namespace
}  // namespace ipckit::bench
