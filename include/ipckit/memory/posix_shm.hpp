// SPDX-License-Identifier: Apache-2.0
// PosixShm: a POSIX shared-memory object (shm_open, /dev/shm/NAME) and the UnlinkGuard that removes
// its name.
//
// Creation and opening are create_or_open_shm() (ipckit/memory/shm_object.hpp):
//   - kCreateExclusive is O_CREAT|O_EXCL; kOpenOrCreate tries O_CREAT|O_EXCL, on EEXIST opens the
//     existing object, and on ENOENT (it was unlinked in between) tries again.
//   - The creator fchmod()s the object to the requested mode (umask would otherwise strip bits) and
//     sizes it with posix_fallocate(): a full /dev/shm fails at creation with ENOSPC (the hint says
//     how much was needed and how much the mount has free), not later with SIGBUS on first touch.
//   - An opener checks the object's owner and mode first: owned by another user (not allowed in the
//     options' TrustPolicy) or with a mode wider than asked (0600 by default) is kUntrusted, naming
//     owner and mode. Then it fstat()s it: size 0 means its creator has not sized it yet, and the
//     opener waits until its ready timeout (1 s by default), then fails with "not ready". An object
//     smaller than the size the opener needs is an error, never a short mapping.
//
// What ipckit cannot prevent: a peer with write access that ftruncate()s the object smaller crashes
// every process mapping it (SIGBUS on the lost pages). shm_open objects cannot be sealed; for
// untrusted peers use Memfd with seals (ipckit/memory/memfd.hpp). See docs/memory.md.
//
// Names are removed only explicitly (PosixShm::unlink or UnlinkGuard): mappings and descriptors in
// other processes keep working after an unlink.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "ipckit/core/mapping.hpp"
#include "ipckit/core/open_mode.hpp"
#include "ipckit/core/ownership.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/core/unique_fd.hpp"
#include "ipckit/memory/shm_object.hpp"

namespace ipckit {

/// How PosixShm::open opens an existing object.
struct ShmOpenOptions {
  Access access = Access::kReadWrite;  ///< read-only or read-write
  /// The opener needs at least this many bytes; a smaller object is an error (0: any size > 0).
  std::size_t min_size = 0;
  /// How long to wait for a size-0 (still being created) object to be sized.
  std::chrono::milliseconds ready_timeout = kDefaultReadyTimeout;
  /// The widest mode accepted: an object whose mode has other bits is refused (kUntrusted).
  mode_t mode = kDefaultMode;
  /// Owners trusted besides this effective uid (any other owner is refused: kUntrusted).
  TrustPolicy trust{};
};

/// A POSIX shared-memory object (shm_open, /dev/shm/NAME). Created and opened through
/// create_or_open_shm(); the name is removed only explicitly (unlink() or UnlinkGuard).
/// Move-only owner of one shm_open descriptor; the destructor closes it and never unlinks the name.
/// Thread safety: const members may be called concurrently; the object itself is not synchronised.
class IPCKIT_API PosixShm {
 public:
  /// An empty PosixShm (valid() is false).
  PosixShm() = default;

  /// Creates (or, with kOpenOrCreate, opens) the object \p name ("/x") with \p size bytes and
  /// permissions \p mode (exactly: fchmod'ed after creation). Read-write.
  /// kOpenOrCreate on an existing object behaves like open() with min_size = size; size() is then the
  /// existing object's size. kOpenExisting is open() with min_size = size.
  /// Blocks only while waiting for another creator to size an existing object (up to
  /// kDefaultReadyTimeout). Errors: an invalid name (EINVAL-like "invalid argument"), EEXIST
  /// (kCreateExclusive), ENOSPC (hint: `df /dev/shm`, containers' --shm-size), EACCES, EMFILE,
  /// "not ready", "too large"/"invalid argument" for size 0 or an existing object that is too small,
  /// kUntrusted for an existing object another user owns (unless \p trust allows it) or whose mode is
  /// wider than \p mode. On failure after creating the name, the name is unlinked again.
  [[nodiscard]] static Result<PosixShm> create(std::string_view name, std::size_t size,
                                               OpenMode open_mode = OpenMode::kCreateExclusive,
                                               mode_t mode = kDefaultMode, const TrustPolicy& trust = {});

  /// Opens an existing object read-only or read-write (see ShmOpenOptions). Blocks up to
  /// options.ready_timeout while the object's size is 0. Errors: ENOENT, EACCES, "not ready",
  /// "invalid argument" when it is smaller than options.min_size, kUntrusted (another owner not in
  /// options.trust, or a mode wider than options.mode).
  [[nodiscard]] static Result<PosixShm> open(std::string_view name, ShmOpenOptions options = {});
  /// Opens an existing object with \p access and the other ShmOpenOptions defaults.
  [[nodiscard]] static Result<PosixShm> open(std::string_view name, Access access) {
    return open(name, ShmOpenOptions{access});
  }

  /// Maps the whole object (size() bytes). Checks with fstat first that nobody shrank it below
  /// size() (a mapping past the end would SIGBUS on touch). MapOptions::access must not exceed the
  /// access it was opened with (EACCES otherwise). Never blocks (except for MAP_POPULATE's faults).
  [[nodiscard]] Result<Mapping> map(MapOptions options = {}) const;

  /// The size when created or opened (bytes).
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  /// The size now, from fstat (another process may have changed it).
  [[nodiscard]] Result<std::size_t> current_size() const;
  /// The object's name ("/x").
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  /// The access the descriptor was opened with.
  [[nodiscard]] Access access() const noexcept { return access_; }
  /// True when this handle's create() made the object (false when it opened an existing one).
  [[nodiscard]] bool created() const noexcept { return created_; }
  /// The shm_open descriptor (stays owned here).
  [[nodiscard]] int native_handle() const noexcept { return fd_.get(); }
  /// True when it holds a descriptor.
  [[nodiscard]] bool valid() const noexcept { return fd_.valid(); }
  /// Gives up the descriptor (the caller closes it).
  [[nodiscard]] UniqueFd release_fd() noexcept { return std::move(fd_); }

  /// shm_unlink(name). Returns true if it removed the name, false if there was none (ENOENT is an
  /// expected outcome, not an error). Processes that have it open or mapped keep using it.
  /// Errors: invalid name, EACCES. Thread- and process-safe (the kernel serialises it).
  [[nodiscard]] static Result<bool> unlink(std::string_view name);

  /// Whether \p name exists now (a snapshot: it may be created or removed right after).
  [[nodiscard]] static Result<bool> exists(std::string_view name);

 private:
  PosixShm(UniqueFd fd, std::string name, std::size_t size, Access access, bool created)
      : fd_(std::move(fd)), name_(std::move(name)), size_(size), access_(access), created_(created) {}

  UniqueFd fd_;
  std::string name_;
  std::size_t size_ = 0;
  Access access_ = Access::kReadWrite;
  bool created_ = false;
};

/// Unlinks a POSIX shm name when destroyed (errors ignored: a missing name is fine). Move-only.
/// Typical use: the creator of a channel arms one so a clean exit removes the name.
class IPCKIT_API UnlinkGuard {
 public:
  /// A disarmed guard.
  UnlinkGuard() = default;
  /// Arms the guard for \p name ("/x").
  explicit UnlinkGuard(std::string name) : name_(std::move(name)) {}
  /// Unlinks the name if still armed (errors ignored).
  ~UnlinkGuard() { reset(); }
  /// Takes over \p other's name; \p other is left disarmed.
  UnlinkGuard(UnlinkGuard&& other) noexcept : name_(std::move(other.name_)) { other.name_.clear(); }
  /// Unlinks this guard's name (if armed), then takes over \p other's; \p other is left disarmed.
  UnlinkGuard& operator=(UnlinkGuard&& other) noexcept;
  /// Not copyable.
  UnlinkGuard(const UnlinkGuard&) = delete;
  /// Not copyable.
  UnlinkGuard& operator=(const UnlinkGuard&) = delete;

  /// The name it will unlink (empty when disarmed).
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  /// True while it holds a name to unlink.
  [[nodiscard]] bool armed() const noexcept { return !name_.empty(); }
  /// Keeps the name: the guard forgets it and unlinks nothing.
  void dismiss() noexcept { name_.clear(); }
  /// Unlinks now (ignoring errors) and disarms.
  void reset() noexcept;

 private:
  std::string name_;
};

}  // namespace ipckit
