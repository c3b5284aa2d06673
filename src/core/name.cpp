// SPDX-License-Identifier: Apache-2.0
#include "ipckit/core/name.hpp"

#include <climits>

#include <fmt/format.h>

namespace ipckit {

Result<void> validate_posix_name(std::string_view name, NameKind kind, std::string_view call) {
  const std::size_t max_len = kind == NameKind::kSemaphore ? NAME_MAX - 4 : NAME_MAX;
  auto bad = [&](std::string detail) {
    return fail_library(LibraryCode::kInvalidArgument, std::string(call), quoted(name), std::move(detail));
  };
  if (name.empty()) return bad("a POSIX IPC name must not be empty (expected \"/name\")");
  if (name.find('\0') != std::string_view::npos) return bad("the name contains a NUL byte");
  if (name.front() != '/') {
    return bad(fmt::format("a POSIX IPC name must start with '/' (try \"/{}\")", name));
  }
  const std::string_view rest = name.substr(1);
  if (rest.empty()) return bad("the name has nothing after '/' (expected \"/name\")");
  if (rest.find('/') != std::string_view::npos) {
    return bad("a POSIX IPC name may contain only one '/', at the start (expected \"/name\")");
  }
  if (rest == "." || rest == "..") return bad("\".\" and \"..\" are not valid names");
  if (rest.size() > max_len) {
    return bad(fmt::format("the name is {} characters after '/'; the limit is {} (NAME_MAX{})", rest.size(),
                           max_len, kind == NameKind::kSemaphore ? " - 4 for the \"sem.\" prefix" : ""));
  }
  return {};
}

}  // namespace ipckit
