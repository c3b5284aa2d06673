// SPDX-License-Identifier: Apache-2.0
// --markdown: GitHub tables with units in the headers, one row per result, noisy rows flagged,
// '|' in a cell escaped, the summary as a list.
#include <algorithm>
#include <string>

#include <gtest/gtest.h>

#include "engine/report.hpp"

namespace ipckit::bench {
namespace {

TEST(BenchMarkdown, TablesWithUnitsAndFlags) {
  Report r;
  r.command = "ipckit bench --markdown x.md";
  r.date = "2026-12-03T13:00:00Z";
  r.machine.model = "Xeon | test";
  Row a;
  a.mechanism = "pipe";
  a.size = 64;
  a.placement = "cross-cpu";
  a.msgs_per_s = 1.0e6;
  a.bytes_per_s = 64e6;
  a.verified = true;
  a.repeats = 3;
  a.spread = 0.31;
  a.cpu_sender = 900;
  r.results.push_back(a);
  Row b = a;
  b.mechanism = "tcp";
  b.pattern = Pattern::kRtt;
  b.msgs_per_s = 30000;
  b.bytes_per_s.reset();
  b.p50 = 33000;
  b.max = 900000;
  b.spread.reset();
  b.repeats = 1;
  r.results.push_back(b);
  const std::string md = to_markdown(r);
  EXPECT_NE(md.find("| mechanism | size | placement | wait | msgs/s | bytes/s | spread |"), std::string::npos) << md;
  EXPECT_NE(md.find("|---|---:|"), std::string::npos) << md;
  EXPECT_NE(md.find("| pipe | 64 B | cross-cpu | blocking | 1.00 M | 64.0 MB/s | 31.0% **noisy** | 900 | - | yes |"),
            std::string::npos) << md;
  EXPECT_NE(md.find("| tcp | 64 B | cross-cpu | blocking | 33.0 us | n/a | n/a | n/a | 900.0 us |  | 900 | - | yes |"),
            std::string::npos) << md;
  EXPECT_NE(md.find("Xeon \\| test"), std::string::npos) << md;
  EXPECT_NE(md.find("#### Which to choose"), std::string::npos) << md;
  EXPECT_NE(md.find("\n- "), std::string::npos) << md;
  EXPECT_EQ(md.find("WHICH TO CHOOSE"), std::string::npos) << md;
  // Every table line has the same number of cells as its header.
  for (const char* header : {"| mechanism | size | placement | wait | msgs/s", "| mechanism | size | placement | wait | p50"}) {
    const auto at = md.find(header);
    ASSERT_NE(at, std::string::npos);
    const auto line_end = md.find('\n', at);
    const auto cols = std::count(md.begin() + static_cast<long>(at), md.begin() + static_cast<long>(line_end), '|');
    const auto next = md.find('\n', md.find('\n', line_end + 1) + 1);
    const auto row_start = md.find('\n', line_end + 1) + 1;
    EXPECT_EQ(std::count(md.begin() + static_cast<long>(row_start), md.begin() + static_cast<long>(next), '|'), cols);
  }
}

}  // namespace
}  // namespace ipckit::bench
