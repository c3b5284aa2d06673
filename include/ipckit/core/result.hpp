// SPDX-License-Identifier: Apache-2.0
/// @file
/// Result<T>: a value or an ipckit::Error. This is the only file that spells tl::.
///
/// Why tl::expected and not std::expected: std::expected needs -std=c++2b on g++ 12, and clang 14
/// fails libstdc++ 12's __cpp_concepts guard so \<expected\> is empty there. Debian's tl::expected 1.0
/// builds on both under -std=c++20. Swapping to std::expected later is a change to this file alone.
/// tl::expected is not [[nodiscard]]: every fallible function in ipckit is marked [[nodiscard]].
#pragma once

#include <cerrno>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

#include <tl/expected.hpp>

#include "ipckit/core/error.hpp"

namespace ipckit {

/// A value of type T, or the Error that prevented it (tl::expected\<T, Error\>).
template <class T>
using Result = tl::expected<T, Error>;

/// The failure side of a Result, as returned by fail() and the other helpers below.
using Unexpected = tl::unexpected<Error>;

/// Wraps an Error for returning from a function that returns Result<T>: `return fail(err);`.
inline Unexpected fail(Error error) { return Unexpected(std::move(error)); }

/// A failure with an errno value the caller already holds (a pthread_* return code, a saved errno):
/// `return fail_errno(rc, "pthread_mutex_lock", shared_object(m));`. For the errno of the call that
/// just failed use last_errno() below, never errno as fail_errno's argument (scripts/check-errno-capture
/// forbids it): the order in which arguments are evaluated is unspecified, so quoted(name) or a
/// fmt::format hint may allocate and change errno before it is read.
inline Unexpected fail_errno(int err, std::string call, std::string object, std::string hint = {}) {
  return Unexpected(Error::system(err, std::move(call), std::move(object), std::move(hint)));
}

/// The errno of the call that just failed, read before anything else runs. The object and hint are
/// built afterwards, lazily, by the member call:
///
/// @code
///   if (fd < 0) return last_errno().fail("shm_open", quoted(name));
/// @endcode
///
/// This is safe by the language: since C++17 the object expression of a member call (`last_errno()`)
/// is sequenced before every argument (`quoted(name)`), so errno is captured first.
class [[nodiscard]] ErrnoCapture {
 public:
  /// Holds \p err (use last_errno() rather than passing errno).
  explicit ErrnoCapture(int err) noexcept : err_(err) {}
  /// The captured errno value.
  [[nodiscard]] int code() const noexcept { return err_; }
  /// The Error for this errno (for code that reports an Error rather than returning it).
  [[nodiscard]] Error error(std::string call, std::string object, std::string hint = {}) const {
    return Error::system(err_, std::move(call), std::move(object), std::move(hint));
  }
  /// The failure to return from a function that returns Result<T>.
  [[nodiscard]] Unexpected fail(std::string call, std::string object, std::string hint = {}) const {
    return Unexpected(error(std::move(call), std::move(object), std::move(hint)));
  }

 private:
  int err_;
};

/// Captures errno now; see ErrnoCapture.
[[nodiscard]] inline ErrnoCapture last_errno() noexcept { return ErrnoCapture(errno); }

/// A failure ipckit detected itself: `return fail_library(LibraryCode::kInvalidArgument, "mmap", name, "cannot map 0 bytes");`.
inline Unexpected fail_library(LibraryCode code, std::string call, std::string object,
                               std::string detail) {
  return Unexpected(Error::library(code, std::move(call), std::move(object), std::move(detail)));
}

/// The exception thrown by or_throw(): a std::system_error whose what() is Error::str().
class IPCKIT_API ErrorException : public std::system_error {
 public:
  /// Wraps \p error; code() is its errno, or EINVAL for a library error.
  explicit ErrorException(Error error);
  /// The Error thrown.
  [[nodiscard]] const Error& error() const noexcept { return error_; }
  /// Exactly Error::str() (std::system_error would append the errno text a second time).
  [[nodiscard]] const char* what() const noexcept override { return text_.c_str(); }

 private:
  Error error_;
  std::string text_;
};

/// For callers who prefer exceptions: returns the value or throws ErrorException. The value is
/// [[nodiscard]]: it may be a status (kPeerClosed, kWouldBlock, kTimedOut, ...) that an error-free
/// call still returns, so `or_throw(tx.try_send(m));` alone warns. To treat every status but kOk as
/// an exception too, use expect_ok() (ipckit/core/expect_ok.hpp).
template <class T>
  requires(!std::is_void_v<T>)
[[nodiscard]] T or_throw(Result<T>&& result) {
  if (!result) throw ErrorException(std::move(result.error()));
  return std::move(*result);
}

/// A call whose success carries nothing: throws ErrorException on error.
inline void or_throw(Result<void>&& result) {
  if (!result) throw ErrorException(std::move(result.error()));
}

}  // namespace ipckit
