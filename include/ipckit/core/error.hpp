// SPDX-License-Identifier: Apache-2.0
/// @file
/// ipckit::Error: one error type for every real failure in the library.
///
/// An Error records what failed in the words a user can act on: the error code (an errno value, or a
/// library code for failures the kernel did not report), the real call that failed, the object as the
/// user named it, and an optional hint that names the limit that was hit and where to change it.
/// Its text has one canonical form:
///
/// @verbatim
///   mq_open("/jobs"): EINVAL: message_size 65536 > /proc/sys/fs/mqueue/msgsize_max (8192): raise it there (as root), or …
///   open("/tmp/x"): ENOENT: No such file or directory
///   channel_open("/c"): corrupt: header magic 0x0 is not an ipckit channel
/// @endverbatim
///
/// Expected outcomes (would-block, timeout, end of stream, peer closed, owner died) are never Errors:
/// they are plain values returned by the operation. See docs/errors.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ipckit/export.hpp"

namespace ipckit {

/// Failures that no errno describes. The text of each is what Error::str() prints in place of the
/// errno name.
enum class LibraryCode : std::uint8_t {
  kInvalidArgument,  ///< "invalid argument": a value the caller passed is out of range or malformed
  kNotReady,         ///< "not ready": an object exists but its creator has not finished initialising it
  kCorrupt,          ///< "corrupt": shared state failed validation (bad magic, index out of bounds, ...)
  kVersionMismatch,  ///< "version mismatch": a shared layout of another major version
  kTooLarge,         ///< "too large": a message or size above a configured maximum
  kUnsupported,      ///< "unsupported": the kernel or build lacks a needed feature
  kRoleTaken,        ///< "role taken": a second producer/consumer on a single-producer/consumer object
  kTruncated,        ///< "truncated": data was cut short (a datagram, control message, ...)
  kProtocol,         ///< "protocol": a peer sent something that breaks the wire format
  kNotAvailable,     ///< "not available": a mechanism or peer library is not built in
  kUntrusted,        ///< "untrusted": an object another user owns, or with a wider mode than asked for
};

/// Returns the short text for a library code ("corrupt", "not ready", ...).
[[nodiscard]] IPCKIT_API const char* to_string(LibraryCode code) noexcept;

/// Returns the symbolic name of an errno value ("ENOENT"), or a placeholder for unknown values.
IPCKIT_API std::string_view errno_name(int err) noexcept;

/// Quotes a user-visible name for the object part of an error: quoted("/jobs") == "\"/jobs\"".
IPCKIT_API std::string quoted(std::string_view name);
/// Names a file descriptor for the object part of an error: fd_object(5) == "fd 5".
IPCKIT_API std::string fd_object(int fd);

/// A failure: the error code, the call that failed, the object it failed on and a hint.
///
/// Made with system() or library() (or fail_errno(), last_errno() and fail_library() in result.hpp);
/// str() gives its one-line text. A plain value: copyable and movable.
class IPCKIT_API Error {
 public:
  /// A failure the kernel reported through errno. `object` is printed verbatim inside the
  /// parentheses: pass quoted(name), fd_object(fd), a key such as "0x1234", or "" when there is none.
  static Error system(int err, std::string call, std::string object, std::string hint = {});
  /// A failure detected by ipckit itself; `detail` explains it (it takes the place of the hint).
  static Error library(LibraryCode code, std::string call, std::string object, std::string detail);

  /// Returns a copy with the hint replaced (used where a caller knows more about the limit hit).
  [[nodiscard]] Error with_hint(std::string hint) const&;
  /// As with_hint() const&, reusing this Error's storage.
  [[nodiscard]] Error with_hint(std::string hint) &&;

  /// errno value for system errors; 0 for library errors.
  [[nodiscard]] int code() const noexcept { return is_system_ ? err_ : 0; }
  /// True when the kernel reported the failure (an errno value), false for a library code.
  [[nodiscard]] bool is_system() const noexcept { return is_system_; }
  /// The library code, meaningful only when !is_system().
  [[nodiscard]] LibraryCode library_code() const noexcept { return lib_; }
  /// True when this is a library error with \p code.
  [[nodiscard]] bool is(LibraryCode code) const noexcept { return !is_system_ && lib_ == code; }
  /// True when this is a system error with errno \p err.
  [[nodiscard]] bool is(int err) const noexcept { return is_system_ && err_ == err; }

  /// The call that failed ("shm_open", "mmap", ...).
  [[nodiscard]] const std::string& call() const noexcept { return call_; }
  /// The object part as it was passed in (quoted(name), fd_object(fd), a key, ...); may be empty.
  [[nodiscard]] const std::string& object() const noexcept { return object_; }
  /// The hint (system errors) or detail (library errors); may be empty.
  [[nodiscard]] const std::string& hint() const noexcept { return hint_; }

  /// The canonical one-line text: call(object): CODE: hint-or-strerror.
  ///
  /// The parentheses are left out when the object is empty; a system error without a hint ends with
  /// its strerror text, a library error without a detail with its code.
  [[nodiscard]] std::string str() const;

 private:
  Error() = default;
  bool is_system_ = true;
  int err_ = 0;
  LibraryCode lib_ = LibraryCode::kInvalidArgument;
  std::string call_;
  std::string object_;
  std::string hint_;
};

}  // namespace ipckit
