// SPDX-License-Identifier: Apache-2.0
#include "ipckit/core/liveness.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "ipckit/core/io.hpp"
#include "ipckit/core/unique_fd.hpp"

namespace ipckit {
namespace {

struct StatFields {
  char state = '?';
  std::uint64_t start_time = 0;
};

// Parses /proc/PID/stat. The command name (field 2) may contain spaces and ')' so fields are counted
// from the last ')'.
Result<StatFields> read_stat(pid_t pid) {
  const std::string path = fmt::format("/proc/{}/stat", pid);
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return last_errno().fail("open", quoted(path));
  char buf[1024];
  auto r = read_some(fd.get(), std::as_writable_bytes(std::span(buf, sizeof buf - 1)), nullptr, path);
  if (!r) return fail(r.error());
  const std::string_view text(buf, r->bytes);
  const auto close_paren = text.rfind(')');
  if (close_paren == std::string_view::npos || close_paren + 2 >= text.size()) {
    return fail_library(LibraryCode::kProtocol, "read", quoted(path), "unexpected format");
  }
  // After ") " come field 3 (state), 4, ... ; start time is field 22.
  std::string_view rest = text.substr(close_paren + 2);
  StatFields out;
  out.state = rest.front();
  int field = 3;
  std::size_t pos = 0;
  while (field < 22) {
    pos = rest.find(' ', pos);
    if (pos == std::string_view::npos) {
      return fail_library(LibraryCode::kProtocol, "read", quoted(path), "too few fields");
    }
    ++pos;
    ++field;
  }
  const char* begin = rest.data() + pos;
  const char* end = rest.data() + rest.size();
  if (std::from_chars(begin, end, out.start_time).ec != std::errc()) {
    return fail_library(LibraryCode::kProtocol, "read", quoted(path), "start time is not a number");
  }
  return out;
}

}  // namespace

const char* to_string(Liveness liveness) noexcept {
  switch (liveness) {
    case Liveness::kAlive: return "alive";
    case Liveness::kDead: return "dead";
    case Liveness::kUnknown: return "unknown";
  }
  return "unknown";
}

Result<std::uint64_t> current_pid_namespace() {
  struct stat st {};
  if (::stat("/proc/self/ns/pid", &st) != 0) return last_errno().fail("stat", quoted("/proc/self/ns/pid"));
  return static_cast<std::uint64_t>(st.st_ino);
}

Result<ProcessIdentity> identity_of(pid_t pid) {
  auto fields = read_stat(pid);
  if (!fields) return fail(fields.error());
  auto ns = current_pid_namespace();
  if (!ns) return fail(ns.error());
  return ProcessIdentity{pid, fields->start_time, *ns};
}

Result<ProcessIdentity> self_identity() { return identity_of(::getpid()); }

Liveness liveness(const ProcessIdentity& who) noexcept {
  if (who.pid <= 0) return Liveness::kUnknown;
  auto ns = current_pid_namespace();
  if (!ns || *ns != who.pid_ns) return Liveness::kUnknown;
  auto fields = read_stat(static_cast<pid_t>(who.pid));
  if (!fields) {
    // ENOENT: no such process. Any other failure (e.g. /proc not mounted) proves nothing.
    return fields.error().is(ENOENT) || fields.error().is(ESRCH) ? Liveness::kDead : Liveness::kUnknown;
  }
  if (fields->start_time != who.start_time) return Liveness::kDead;  // the pid was reused
  if (fields->state == 'Z' || fields->state == 'X') return Liveness::kDead;
  return Liveness::kAlive;
}

}  // namespace ipckit
