// SPDX-License-Identifier: Apache-2.0
// The JSON report of a real tiny run has every key of the schema in every row, with the right
// types; CSV has one line per row; --compare prints the ratio of every figure.
#include <algorithm>
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
  EXPECT_EQ(j.at("schema_version"), 1);
  EXPECT_TRUE(j.at("ipckit_version").is_string());
  EXPECT_TRUE(j.at("command").is_string());
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
                                          "zero_copy"};
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

TEST(BenchJson, CompareShowsTheRatioOfEveryFigure) {
  auto make = [](double rate, double p50) {
    json j = {{"schema_version", 1}, {"results", json::array()}};
    j["results"].push_back({{"mechanism", "pipe"}, {"pattern", "throughput"}, {"size", 64}, {"placement", "cross-cpu"},
                            {"msgs_per_s", rate}, {"sender_msgs_per_s", rate}, {"bytes_per_s", rate * 64},
                            {"rtt_ns", {{"p50", nullptr}, {"p90", nullptr}, {"p99", nullptr}, {"p999", nullptr}, {"max", nullptr}}},
                            {"cpu_ns_per_msg", {{"sender", 100.0}, {"receiver", 50.0}}}});
    j["results"].push_back({{"mechanism", "tcp"}, {"pattern", "rtt"}, {"size", 64}, {"placement", "cross-cpu"},
                            {"msgs_per_s", 1000.0}, {"bytes_per_s", nullptr},
                            {"rtt_ns", {{"p50", p50}, {"p90", nullptr}, {"p99", nullptr}, {"p999", nullptr}, {"max", p50 * 3}}},
                            {"cpu_ns_per_msg", {{"sender", 100.0}, {"receiver", 100.0}}}});
    return j;
  };
  json a = make(1000, 40000);
  json b = make(2500, 10000);
  b["results"].push_back({{"mechanism", "udp"}, {"pattern", "rtt"}, {"size", 64}, {"placement", "cross-cpu"}});
  auto text = compare_reports(a, b);
  ASSERT_TRUE(text) << text.error().str();
  EXPECT_NE(text->find("msgs_per_s"), std::string::npos);
  EXPECT_NE(text->find("sender_msgs_per_s"), std::string::npos) << *text;
  EXPECT_NE(text->find("2.500"), std::string::npos) << *text;  // pipe msgs/s and bytes/s
  EXPECT_NE(text->find("0.250"), std::string::npos) << *text;  // tcp p50 and max
  EXPECT_NE(text->find("1.000"), std::string::npos) << *text;  // cpu unchanged
  EXPECT_NE(text->find("udp rtt 64 B cross-cpu"), std::string::npos);
  EXPECT_NE(text->find("only in B"), std::string::npos);
}

TEST(BenchJson, LoadRejectsFilesThatAreNotReports) {
  ::ipckit::test::TempDir dir;
  ASSERT_TRUE(write_text_file(dir.file("a.json"), "{\"hello\": 1}"));
  EXPECT_TRUE(::ipckit::test::FailsWith(load_report(dir.file("a.json")), {"not an ipckit bench report"}));
  ASSERT_TRUE(write_text_file(dir.file("b.json"), "{nope"));
  EXPECT_TRUE(::ipckit::test::FailsWith(load_report(dir.file("b.json")), {"not valid JSON"}));
}

}  // namespace
}  // namespace ipckit::bench
