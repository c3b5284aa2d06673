// SPDX-License-Identifier: Apache-2.0
// Result<T>: a value or an ipckit::Error. This is the only file that spells tl::.
//
// Why tl::expected and not std::expected: std::expected needs -std=c++2b on g++ 12, and clang 14
// fails libstdc++ 12's __cpp_concepts guard so <expected> is empty there. Debian's tl::expected 1.0
// builds on both under -std=c++20. Swapping to std::expected later is a change to this file alone.
// tl::expected is not [[nodiscard]]: every fallible function in ipckit is marked [[nodiscard]].
#pragma once

#include <string>
#include <system_error>
#include <utility>

#include <tl/expected.hpp>

#include "ipckit/core/error.hpp"

namespace ipckit {

template <class T>
using Result = tl::expected<T, Error>;

using Unexpected = tl::unexpected<Error>;

// Wraps an Error for returning from a function that returns Result<T>: `return fail(err);`.
inline Unexpected fail(Error error) { return Unexpected(std::move(error)); }

// Shorthand for the most common failure: `return fail_errno(errno, "shm_open", quoted(name));`.
inline Unexpected fail_errno(int err, std::string call, std::string object, std::string hint = {}) {
  return Unexpected(Error::system(err, std::move(call), std::move(object), std::move(hint)));
}

inline Unexpected fail_library(LibraryCode code, std::string call, std::string object,
                               std::string detail) {
  return Unexpected(Error::library(code, std::move(call), std::move(object), std::move(detail)));
}

// The exception thrown by or_throw(): a std::system_error whose what() is Error::str().
class IPCKIT_API ErrorException : public std::system_error {
 public:
  explicit ErrorException(Error error);
  [[nodiscard]] const Error& error() const noexcept { return error_; }
  // Exactly Error::str() (std::system_error would append the errno text a second time).
  [[nodiscard]] const char* what() const noexcept override { return text_.c_str(); }

 private:
  Error error_;
  std::string text_;
};

// For callers who prefer exceptions: returns the value or throws ErrorException.
template <class T>
T or_throw(Result<T>&& result) {
  if (!result) throw ErrorException(std::move(result.error()));
  if constexpr (!std::is_void_v<T>) return std::move(*result);
}

}  // namespace ipckit
