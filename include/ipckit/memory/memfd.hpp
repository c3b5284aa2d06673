// SPDX-License-Identifier: Apache-2.0
// Memfd: anonymous shared memory with a file descriptor (memfd_create) and seals — the safe way to
// share memory with a peer you do not trust.
//
// A memfd has no name in any file system: it is shared by handing its descriptor over (SCM_RIGHTS
// on a UNIX socket, fork, or /proc/PID/fd). Seals (fcntl F_ADD_SEALS) are properties of the memory
// itself that nobody can remove once added:
//   F_SEAL_SHRINK | F_SEAL_GROW  the size is fixed: no peer can truncate it and SIGBUS the others
//                                (shm_open objects cannot be sealed; this is why memfd exists).
//   F_SEAL_WRITE                 nobody can write any more (needs no writable shared mapping left).
//   F_SEAL_FUTURE_WRITE          no *new* writes: the creator's existing writable mapping keeps
//                                working, every later mapping or write() is read-only: one writer,
//                                read-only receivers.
//   F_SEAL_SEAL                  no further seals can be added.
// A receiver calls Memfd::adopt with the seals and size it needs before mapping: a peer that
// handed over an unsealed or short memfd is refused with a clear error instead of crashing later.
#pragma once

#include <fcntl.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "ipckit/core/mapping.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/core/unique_fd.hpp"

namespace ipckit {

/// Seal bits (the kernel's `F_SEAL_*` values; combine with `|`).
namespace seal {
/// F_SEAL_SEAL: no further seals can be added.
inline constexpr unsigned kSeal = F_SEAL_SEAL;
/// F_SEAL_SHRINK: the size can no longer shrink (nobody can truncate it and SIGBUS the others).
inline constexpr unsigned kShrink = F_SEAL_SHRINK;
/// F_SEAL_GROW: the size can no longer grow.
inline constexpr unsigned kGrow = F_SEAL_GROW;
/// F_SEAL_WRITE: nobody can write any more (needs no writable shared mapping left).
inline constexpr unsigned kWrite = F_SEAL_WRITE;
/// F_SEAL_FUTURE_WRITE: no *new* writes; existing writable mappings keep working, every later
/// mapping or write() is read-only (one writer, read-only receivers).
inline constexpr unsigned kFutureWrite = F_SEAL_FUTURE_WRITE;
/// The size can never change: mappings of the whole object can never SIGBUS.
inline constexpr unsigned kFixedSize = F_SEAL_SHRINK | F_SEAL_GROW;
}  // namespace seal

/// "F_SEAL_SHRINK|F_SEAL_GROW" ("none" for 0): how seals appear in errors.
[[nodiscard]] IPCKIT_API std::string seals_text(unsigned seals);

/// How Memfd::create makes a memfd.
struct MemfdOptions {
  bool allow_sealing = true;  ///< MFD_ALLOW_SEALING (without it, F_SEAL_SEAL is set from the start)
  bool huge_pages = false;    ///< MFD_HUGETLB: backed by the default huge page size (see huge_pages.hpp)
};

/// What a receiver requires of a memfd before trusting it.
struct MemfdRequirements {
  unsigned seals = seal::kFixedSize;  ///< seal bits that must all be set
  std::size_t min_size = 1;           ///< at least this many bytes
};

/// Anonymous shared memory with a file descriptor (memfd_create) and seals: the safe way to share
/// memory with a peer you do not trust. Shared by handing the descriptor over (SCM_RIGHTS, fork);
/// a receiver checks it with adopt() before mapping.
/// Move-only owner of a memfd descriptor. Thread safety: const members may run concurrently.
class IPCKIT_API Memfd {
 public:
  /// An empty Memfd (valid() is false).
  Memfd() = default;

  /// memfd_create(debug_name) + posix_fallocate(size) (ENOSPC/ENOMEM now, not SIGBUS later).
  /// \p debug_name shows in /proc/PID/fd as "/memfd:NAME" (at most 249 bytes, no '/'). Never blocks.
  /// Errors: "invalid argument" (name), EMFILE, ENOMEM/ENOSPC (memory or cgroup limit),
  /// ENOMEM/EINVAL with huge_pages when none are configured (hint names vm.nr_hugepages).
  [[nodiscard]] static Result<Memfd> create(std::string_view debug_name, std::size_t size, MemfdOptions options = {});

  /// Takes a descriptor received from a peer and checks it: it is a memfd (F_GET_SEALS works),
  /// carries every seal in `required.seals` and has at least `required.min_size` bytes. Errors:
  /// "invalid argument" (not a memfd), "corrupt" (a seal is missing or it is too small: the text
  /// names which). Never blocks.
  [[nodiscard]] static Result<Memfd> adopt(UniqueFd fd, MemfdRequirements required = {});

  /// Adds seals (F_ADD_SEALS). Errors: EPERM (F_SEAL_SEAL is set, or sealing was not allowed),
  /// EBUSY (F_SEAL_WRITE while a writable shared mapping exists: use kFutureWrite instead).
  [[nodiscard]] Result<void> add_seals(unsigned seals) const;
  /// The seals now set (F_GET_SEALS).
  [[nodiscard]] Result<unsigned> seals() const;

  /// Maps the whole object (size() bytes). A read-write shared mapping of a write-sealed memfd is
  /// refused with a clear error (the kernel says EPERM). Never blocks.
  [[nodiscard]] Result<Mapping> map(MapOptions options = {}) const;

  /// Changes the size (ftruncate / posix_fallocate); fails with EPERM once kShrink/kGrow is set.
  [[nodiscard]] Result<void> resize(std::size_t new_size);

  /// Size in bytes, as created, adopted or last resized through this object.
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  /// The debug name.
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  /// The memfd descriptor (stays owned here).
  [[nodiscard]] int native_handle() const noexcept { return fd_.get(); }
  /// True when it holds a descriptor.
  [[nodiscard]] bool valid() const noexcept { return fd_.valid(); }
  /// "/proc/PID/fd/N": how another process of the same user can open this memfd (tests, debugging;
  /// SCM_RIGHTS is the way to hand it to a peer). The opener gets a new open file description with
  /// the access it asks for, subject to the seals.
  [[nodiscard]] std::string proc_path() const;

 private:
  Memfd(UniqueFd fd, std::string name, std::size_t size) : fd_(std::move(fd)), name_(std::move(name)), size_(size) {}
  UniqueFd fd_;
  std::string name_;
  std::size_t size_ = 0;
};

}  // namespace ipckit
