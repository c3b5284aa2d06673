// SPDX-License-Identifier: Apache-2.0
// Private helper of every layer: reading kernel tunables (/proc/sys/...) for error hints.
#pragma once

#include <cstdint>
#include <fstream>
#include <limits>
#include <optional>
#include <string>

namespace ipckit::detail {

// The first unsigned number in a /proc file ("18446744073692774399\n"), or nullopt if it cannot be
// read (hints then say "unknown" rather than failing the call they explain).
inline std::optional<std::uint64_t> read_proc_u64(const std::string& path) {
  std::ifstream in(path);
  std::uint64_t value = 0;
  if (!(in >> value)) return std::nullopt;
  return value;
}

// A field of /proc/meminfo ("HugePages_Free", "Hugepagesize" in kB as printed), or nullopt.
inline std::optional<std::uint64_t> read_meminfo(const std::string& field) {
  std::ifstream in("/proc/meminfo");
  std::string key;
  std::uint64_t value = 0;
  while (in >> key >> value) {
    if (key == field + ":") return value;
    in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return std::nullopt;
}

// The same as a signed long, -1 when unreadable (for hints that compare against a request size).
inline long read_proc_long(const std::string& path) {
  const auto v = read_proc_u64(path);
  return v ? static_cast<long>(*v) : -1;
}

inline std::string proc_text(const std::optional<std::uint64_t>& v) {
  return v ? std::to_string(*v) : std::string("unknown");
}

}  // namespace ipckit::detail
