// SPDX-License-Identifier: Apache-2.0
/// @file
/// Run-time detection of optional kernel features.
///
/// ipckit builds against Debian 12's headers (glibc 2.36) but may run on other kernels. Features that
/// arrived after the minimum kernel (docs/platform.md) are probed once, by trying the real call, and a
/// missing one is an Error naming the kernel version it needs and the one running:
/// @verbatim
///   F_SEAL_FUTURE_WRITE: unsupported: needs Linux 5.1 or later (running 4.19.0)
/// @endverbatim
#pragma once

#include <string>
#include <string_view>

#include "ipckit/core/result.hpp"

namespace ipckit {

/// An optional kernel feature that has_feature() can probe.
enum class Feature {
  kMemfd,             ///< memfd_create: Linux 3.17
  kMemfdSeals,        ///< F_ADD_SEALS on memfds: Linux 3.17
  kSealFutureWrite,   ///< F_SEAL_FUTURE_WRITE: Linux 5.1
  kOfdLocks,          ///< F_OFD_SETLK: Linux 3.15
  kPidfd,             ///< pidfd_open: Linux 5.3
  kCloseRange,        ///< close_range: Linux 5.9
  kFutex,             ///< futex with FUTEX_PRIVATE_FLAG off (shared): Linux 2.6
  kEventfd,           ///< eventfd2 with EFD_SEMAPHORE: Linux 2.6.30
};

/// A Linux kernel version, major.minor.patch; compares in that order.
struct KernelVersion {
  int major = 0;  ///< e.g. 6 in 6.1.0
  int minor = 0;  ///< e.g. 1 in 6.1.0
  int patch = 0;  ///< e.g. 0 in 6.1.0
  /// Orders by major, then minor, then patch.
  friend auto operator<=>(const KernelVersion&, const KernelVersion&) = default;
};

/// The running kernel's version from uname(2) (e.g. "6.1.0-13-amd64" -> 6.1.0); 0.0.0 if it cannot be read.
[[nodiscard]] IPCKIT_API KernelVersion running_kernel() noexcept;
/// "major.minor.patch", e.g. "5.1.0".
[[nodiscard]] IPCKIT_API std::string to_string(KernelVersion v);

/// The kernel version that introduced `f`.
[[nodiscard]] IPCKIT_API KernelVersion introduced_in(Feature f) noexcept;
/// The name of `f` as used in errors ("memfd_create", "F_SEAL_FUTURE_WRITE", ...).
[[nodiscard]] IPCKIT_API std::string_view feature_name(Feature f) noexcept;

/// Probes `f` once per process (thread-safe; the answer is cached) by making the real call.
[[nodiscard]] IPCKIT_API bool has_feature(Feature f) noexcept;

/// Ok when `f` is available; otherwise Error kUnsupported naming the version needed and running.
[[nodiscard]] IPCKIT_API Result<void> require_feature(Feature f);

/// The minimum kernel ipckit supports (docs/platform.md).
inline constexpr KernelVersion kMinimumKernel{4, 18, 0};

}  // namespace ipckit
