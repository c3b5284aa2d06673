// SPDX-License-Identifier: Apache-2.0
#include "ipckit/core/error.hpp"

#include <cstring>
#include <string>

#include <fmt/format.h>

#include "ipckit/core/result.hpp"

namespace ipckit {

const char* to_string(LibraryCode code) noexcept {
  switch (code) {
    case LibraryCode::kInvalidArgument: return "invalid argument";
    case LibraryCode::kNotReady: return "not ready";
    case LibraryCode::kCorrupt: return "corrupt";
    case LibraryCode::kVersionMismatch: return "version mismatch";
    case LibraryCode::kTooLarge: return "too large";
    case LibraryCode::kUnsupported: return "unsupported";
    case LibraryCode::kRoleTaken: return "role taken";
    case LibraryCode::kTruncated: return "truncated";
    case LibraryCode::kProtocol: return "protocol";
    case LibraryCode::kNotAvailable: return "not available";
    case LibraryCode::kUntrusted: return "untrusted";
  }
  return "unknown";
}

std::string_view errno_name(int err) noexcept {
  // glibc 2.36 has strerrorname_np(); it returns nullptr for unknown values.
  if (const char* name = ::strerrorname_np(err)) return name;
  return "errno ?";
}

std::string quoted(std::string_view name) { return fmt::format("\"{}\"", name); }

std::string fd_object(int fd) { return fmt::format("fd {}", fd); }

Error Error::system(int err, std::string call, std::string object, std::string hint) {
  Error e;
  e.is_system_ = true;
  e.err_ = err;
  e.call_ = std::move(call);
  e.object_ = std::move(object);
  e.hint_ = std::move(hint);
  return e;
}

Error Error::library(LibraryCode code, std::string call, std::string object, std::string detail) {
  Error e;
  e.is_system_ = false;
  e.lib_ = code;
  e.call_ = std::move(call);
  e.object_ = std::move(object);
  e.hint_ = std::move(detail);
  return e;
}

Error Error::with_hint(std::string hint) const& {
  Error copy = *this;
  copy.hint_ = std::move(hint);
  return copy;
}

Error Error::with_hint(std::string hint) && {
  hint_ = std::move(hint);
  return std::move(*this);
}

std::string Error::str() const {
  std::string code_text;
  if (is_system_) {
    const char* name = ::strerrorname_np(err_);
    code_text = name != nullptr ? std::string(name) : fmt::format("errno {}", err_);
  } else {
    code_text = std::string(to_string(lib_));
  }
  std::string detail = hint_;
  if (detail.empty() && is_system_) detail = ::strerrordesc_np(err_) ? ::strerrordesc_np(err_) : "";
  // With no object (a feature probe, a process-wide limit) the parentheses are left out.
  std::string out = object_.empty() ? fmt::format("{}: {}", call_, code_text)
                                    : fmt::format("{}({}): {}", call_, object_, code_text);
  if (!detail.empty()) out += fmt::format(": {}", detail);
  return out;
}

ErrorException::ErrorException(Error error)
    : std::system_error(error.is_system() ? error.code() : EINVAL, std::generic_category(), error.str()),
      error_(std::move(error)),
      text_(error_.str()) {}

}  // namespace ipckit
