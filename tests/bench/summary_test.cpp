// SPDX-License-Identifier: Apache-2.0
// The "which to choose" summary: every ratio names its reference with two significant digits, the
// tutorials' bulk figures are judged only at bulk sizes (and the size is named), noisy rows and a
// loaded machine are said; the headline items carry the rows' own figures.
#include <string>

#include <gtest/gtest.h>

#include "engine/report.hpp"

namespace ipckit::bench {
namespace {

Row tp(const char* mech, std::size_t size, double rate, Wait wait = Wait::kBlocking) {
  Row r;
  r.mechanism = mech;
  r.pattern = Pattern::kThroughput;
  r.size = size;
  r.placement = "cross-cpu";
  r.wait = wait;
  r.msgs_per_s = rate;
  r.bytes_per_s = rate * static_cast<double>(size);
  r.verified = true;
  r.repeats = 3;
  r.spread = 0.05;
  return r;
}

TEST(BenchSummary, RatiosNameTheirReferenceWithTwoSignificantDigits) {
  Report r;
  r.results = {tp("pipe", 64, 1.0e6), tp("unix-stream", 64, 1.3e6), tp("channel-spsc", 64, 39.11e6, Wait::kBusy),
               tp("shm-handoff", 64, 2.0e6, Wait::kBusy)};
  const std::string s = format_summary(r);
  EXPECT_NE(s.find("unix-stream is the fastest blocking mechanism here (1.30 M msgs/s, 1.3x pipe's 1.00 M msgs/s)"),
            std::string::npos) << s;
  EXPECT_NE(s.find("the ipckit channel (busy-poll) reaches 39.11 M msgs/s (30x unix-stream)"), std::string::npos) << s;
  EXPECT_NE(s.find("a shared-memory handoff reaches 2.00 M msgs/s (1.5x unix-stream)"), std::string::npos) << s;
  EXPECT_EQ(s.find("0.0x"), std::string::npos) << s;
  const auto items = headline(r);
  ASSERT_FALSE(items.empty());
  EXPECT_EQ(items[0].mechanism, "unix-stream");
  EXPECT_EQ(items[0].figure, "msgs_per_s");
  EXPECT_DOUBLE_EQ(items[0].value, 1.3e6);
}

TEST(BenchSummary, RequestReplyIsAnsweredAtTheSmallestSizeBesidesTheFixedSizeProbe) {
  // atomic-pingpong runs at 8 B only: the request/reply answer is at 64 B, the smallest size the
  // other mechanisms ran (the default run lost this line to the 8-byte probe).
  Report r;
  auto rtt = [](const char* mech, std::size_t size, double p50, Wait wait) {
    Row x = tp(mech, size, 1e9 / p50, wait);
    x.pattern = Pattern::kRtt;
    x.bytes_per_s.reset();
    x.p50 = p50;
    return x;
  };
  r.results = {rtt("atomic-pingpong", 8, 150, Wait::kBusy), rtt("pipe", 64, 30000, Wait::kBlocking),
               rtt("unix-stream", 64, 25000, Wait::kBlocking), rtt("shm-pingpong", 64, 300, Wait::kBusy)};
  const std::string s = format_summary(r);
  EXPECT_NE(s.find("- Request/reply (64 B): unix-stream has the lowest blocking round trip (p50 25.0 us"),
            std::string::npos) << s;
  EXPECT_NE(s.find("busy-polling shared memory answers in 300 ns (raw atomic ping-pong: 150 ns)"), std::string::npos)
      << s;
}

TEST(BenchSummary, HumanRatioKeepsTwoSignificantDigits) {
  EXPECT_EQ(human_ratio(0.047), "0.047x");
  EXPECT_EQ(human_ratio(0.8), "0.80x");
  EXPECT_EQ(human_ratio(1.26), "1.3x");
  EXPECT_EQ(human_ratio(33.4), "33x");
  EXPECT_EQ(human_ratio(1234), "1200x");
}

TEST(BenchSummary, TutorialClaimsAreJudgedAtBulkSizesOnly) {
  Report small;
  small.results = {tp("pipe", 64, 1.0e6), tp("posix-mq", 64, 0.15e6)};
  std::string s = format_summary(small);
  // 64 B only: no like-for-like comparison with a bulk bandwidth, and the summary says so.
  EXPECT_EQ(s.find("posix-mq 0.047x"), std::string::npos) << s;
  EXPECT_NE(s.find("this run has no size of 64 KiB or more (largest: 64 B) to judge them"), std::string::npos) << s;
  EXPECT_NE(format_table(small).find("200.0 MB/s: no size >= 64 KiB here"), std::string::npos) << format_table(small);

  Report bulk;
  bulk.results = {tp("pipe", 64, 1.0e6), tp("pipe", 65536, 4000), tp("pipe", 1 << 20, 300)};
  s = format_summary(bulk);
  // The best bytes/s at 64 KiB or more: 1 MiB x 300 = 315 MB/s against the claimed 200 MB/s.
  EXPECT_NE(s.find("pipe 1.6x at 1 MiB"), std::string::npos) << s;
  EXPECT_NE(format_table(bulk).find("200.0 MB/s -> 1.6x at 1 MiB"), std::string::npos) << format_table(bulk);
}

TEST(BenchSummary, NoisyRowsAndALoadedMachineAreSaid) {
  Report r;
  r.results = {tp("pipe", 64, 1.0e6), tp("tcp", 64, 0.5e6)};
  r.results[1].spread = 0.45;
  r.loaded = {"1-minute load average 3.10 at the start, above CPUs - 1 = 1"};
  const std::string s = format_summary(r);
  EXPECT_NE(s.find("1 row is noisy (spread above 20%, marked !)"), std::string::npos) << s;
  EXPECT_NE(s.find("The machine looked loaded (1-minute load average 3.10"), std::string::npos) << s;
  const std::string table = format_table(r);
  EXPECT_NE(table.find("45.0%!"), std::string::npos) << table;
  EXPECT_NE(table.find("5.0%"), std::string::npos) << table;
}

TEST(BenchLoad, LoadAverageAboveCpusMinusOneOrAMovingProbeIsReported) {
  Report r;
  r.machine.cpus = 2;
  r.load_start = LoadAverage{0.5, 0.5, 0.5};
  EXPECT_TRUE(detect_load(r).empty());
  r.load_start = LoadAverage{1.5, 0.5, 0.5};
  ASSERT_EQ(detect_load(r).size(), 1u);
  EXPECT_NE(detect_load(r)[0].find("load average 1.50"), std::string::npos);
  r.load_start = LoadAverage{0.1, 0.1, 0.1};
  Row probe;
  probe.mechanism = "atomic-pingpong";
  probe.pattern = Pattern::kRtt;
  probe.per_repeat.p50 = {100.0, 105.0, 98.0};
  r.results.push_back(probe);
  EXPECT_TRUE(detect_load(r).empty());
  r.results[0].per_repeat.p50 = {100.0, 105.0, 450.0};
  ASSERT_EQ(detect_load(r).size(), 1u);
  EXPECT_NE(detect_load(r)[0].find("atomic ping-pong probe"), std::string::npos);
}

}  // namespace
}  // namespace ipckit::bench
