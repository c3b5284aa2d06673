// SPDX-License-Identifier: Apache-2.0
// CSV (--csv): one line per row, numbers at full precision (the shortest text that reads back as
// the same double), empty cells where a figure was not measured (the spread with one repeat).
#include <algorithm>

#include <fmt/format.h>

#include "engine/report.hpp"

namespace ipckit::bench {

std::string to_csv(const Report& r) {
  std::string out =
      "mechanism,pattern,size,placement,wait,producers,consumers,samples,msgs_per_s,bytes_per_s,p50_ns,p90_ns,"
      "p99_ns,p999_ns,max_ns,cpu_ns_sender,cpu_ns_receiver,repeats,spread,verified,limited,lost,zero_copy,"
      "rate_of,sender_msgs_per_s\n";
  auto num = [](const std::optional<double>& v) { return v ? fmt::format("{}", *v) : std::string(); };
  for (const auto& row : r.results) {
    std::string limited = row.limited.value_or("");
    std::replace(limited.begin(), limited.end(), '"', '\'');
    out += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},\"{}\",{},{},{},{}\n",
                       row.mechanism, to_string(row.pattern), row.size, row.placement, to_string(row.wait),
                       row.procs.producers, row.procs.consumers, row.samples, num(row.msgs_per_s),
                       num(row.bytes_per_s), num(row.p50), num(row.p90), num(row.p99), num(row.p999), num(row.max),
                       num(row.cpu_sender), num(row.cpu_receiver), row.repeats, num(row.spread),
                       row.verified ? (*row.verified ? "true" : "false") : "", limited, row.lost,
                       row.zero_copy ? "true" : "false", row.rate_of, num(row.sender_msgs_per_s));
  }
  return out;
}

}  // namespace ipckit::bench
