// SPDX-License-Identifier: Apache-2.0
#include "ipckit/core/platform.hpp"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>

#include <fmt/format.h>

#include "ipckit/core/unique_fd.hpp"

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

namespace ipckit {
namespace {

bool probe_memfd() {
  UniqueFd fd(static_cast<int>(::syscall(SYS_memfd_create, "ipckit-probe", MFD_CLOEXEC)));
  return fd.valid();
}

bool probe_seal(int seal) {
  UniqueFd fd(static_cast<int>(::syscall(SYS_memfd_create, "ipckit-probe", MFD_CLOEXEC | MFD_ALLOW_SEALING)));
  if (!fd) return false;
  return ::fcntl(fd.get(), F_ADD_SEALS, seal) == 0;
}

bool probe_ofd() {
  UniqueFd fd(static_cast<int>(::syscall(SYS_memfd_create, "ipckit-probe", MFD_CLOEXEC)));
  if (!fd) return false;
  struct flock fl {};
  fl.l_type = F_RDLCK;
  fl.l_whence = SEEK_SET;
  return ::fcntl(fd.get(), F_OFD_GETLK, &fl) == 0;
}

bool probe_pidfd() {
  UniqueFd fd(static_cast<int>(::syscall(SYS_pidfd_open, ::getpid(), 0)));
  return fd.valid();
}

bool probe_close_range() {
  // Closing an empty range far above any open descriptor is harmless.
  return ::syscall(SYS_close_range, 0x7fff0000u, 0x7fff0001u, 0u) == 0;
}

bool probe_futex() {
  std::uint32_t word = 0;
  // FUTEX_WAKE on a private word with no waiters: returns 0 when futexes exist.
  return ::syscall(SYS_futex, &word, 1 /*FUTEX_WAKE*/, 1, nullptr, nullptr, 0) >= 0;
}

bool probe_eventfd() {
  UniqueFd fd(::eventfd(0, EFD_CLOEXEC | EFD_SEMAPHORE));
  return fd.valid();
}

bool probe(Feature f) {
  switch (f) {
    case Feature::kMemfd: return probe_memfd();
    case Feature::kMemfdSeals: return probe_seal(F_SEAL_SHRINK);
    case Feature::kSealFutureWrite: return probe_seal(F_SEAL_FUTURE_WRITE);
    case Feature::kOfdLocks: return probe_ofd();
    case Feature::kPidfd: return probe_pidfd();
    case Feature::kCloseRange: return probe_close_range();
    case Feature::kFutex: return probe_futex();
    case Feature::kEventfd: return probe_eventfd();
  }
  return false;
}

constexpr std::size_t kFeatureCount = 8;
// 0 = not probed yet, 1 = absent, 2 = present. Relaxed is enough: probing twice is harmless and the
// value itself is the only data published.
std::array<std::atomic<int>, kFeatureCount> g_cache{};

}  // namespace

KernelVersion running_kernel() noexcept {
  utsname u{};
  if (::uname(&u) != 0) return {};
  KernelVersion v;
  if (std::sscanf(u.release, "%d.%d.%d", &v.major, &v.minor, &v.patch) < 2) return {};
  return v;
}

std::string to_string(KernelVersion v) { return fmt::format("{}.{}.{}", v.major, v.minor, v.patch); }

KernelVersion introduced_in(Feature f) noexcept {
  switch (f) {
    case Feature::kMemfd: return {3, 17, 0};
    case Feature::kMemfdSeals: return {3, 17, 0};
    case Feature::kSealFutureWrite: return {5, 1, 0};
    case Feature::kOfdLocks: return {3, 15, 0};
    case Feature::kPidfd: return {5, 3, 0};
    case Feature::kCloseRange: return {5, 9, 0};
    case Feature::kFutex: return {2, 6, 0};
    case Feature::kEventfd: return {2, 6, 30};
  }
  return {};
}

std::string_view feature_name(Feature f) noexcept {
  switch (f) {
    case Feature::kMemfd: return "memfd_create";
    case Feature::kMemfdSeals: return "memfd seals (F_ADD_SEALS)";
    case Feature::kSealFutureWrite: return "F_SEAL_FUTURE_WRITE";
    case Feature::kOfdLocks: return "open file description locks (F_OFD_SETLK)";
    case Feature::kPidfd: return "pidfd_open";
    case Feature::kCloseRange: return "close_range";
    case Feature::kFutex: return "futex";
    case Feature::kEventfd: return "eventfd (EFD_SEMAPHORE)";
  }
  return "unknown feature";
}

bool has_feature(Feature f) noexcept {
  auto& slot = g_cache[static_cast<std::size_t>(f)];
  int state = slot.load(std::memory_order_relaxed);
  if (state == 0) {
    state = probe(f) ? 2 : 1;
    slot.store(state, std::memory_order_relaxed);
  }
  return state == 2;
}

Result<void> require_feature(Feature f) {
  if (has_feature(f)) return {};
  return fail_library(LibraryCode::kUnsupported, std::string(feature_name(f)), "",
                      fmt::format("needs Linux {} or later (running {})", to_string(introduced_in(f)),
                                  to_string(running_kernel())));
}

}  // namespace ipckit
