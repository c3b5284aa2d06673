// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the report writers (report_*.cpp); not part of the engine's interface.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "engine/bench.hpp"

namespace ipckit::bench::detail {

// The measuring baselines: no IPC mechanism, the upper bounds the others are read against.
[[nodiscard]] inline bool is_baseline(std::string_view m) {
  return m == "memcpy" || m == "atomic-pingpong" || m == "shm-handoff" || m == "shm-pingpong";
}

// The family a mechanism belongs to, for the page's colours and the Markdown tables.
[[nodiscard]] inline std::string_view family(std::string_view m) {
  if (is_baseline(m)) return "baseline";
  if (m.rfind("channel-", 0) == 0) return "ipckit channel";
  if (m == "boost-mq" || m == "zmq-ipc" || m.rfind("iceoryx", 0) == 0) return "peer library";
  if (m == "posix-mq" || m == "sysv-mq" || m == "shm-sem") return "kernel queue / shm";
  return "kernel stream / socket";
}

[[nodiscard]] inline std::string cell(const std::optional<double>& v, std::string (*fmt_fn)(double)) {
  return v ? fmt_fn(*v) : "n/a";
}

// "12.3%", or "" for a row with one repeat.
[[nodiscard]] std::string spread_text(const Row& r);
// "sender/receiver" CPU ns per message, "-" where not measured.
[[nodiscard]] std::string cpu_pair(const Row& r);
[[nodiscard]] std::string verified_text(const Row& r);

}  // namespace ipckit::bench::detail
