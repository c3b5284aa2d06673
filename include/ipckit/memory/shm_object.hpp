// SPDX-License-Identifier: Apache-2.0
// create_or_open_shm(): the one create-or-open of a POSIX shared-memory object (shm_open) in ipckit.
// PosixShm is built on it; the channel moves onto it next.
//
// The creator's steps, in this order:
//   1. shm_open(O_CREAT | O_EXCL, mode): only one process can create a name;
//   2. fchmod(mode): shm_open applied the umask, the caller gets exactly the mode asked for;
//   3. posix_fallocate(size): the pages are reserved now, so a full shm filesystem fails here with
//      ENOSPC (hint: the size needed and the free space of the mount) instead of as a SIGBUS later;
//   4. init(fd, size), when given: the caller writes its initial contents (a header, ...) and sets
//      its ready marker LAST (a release store of a flag openers read with acquire).
//   On a failure in 2-4 the name is unlinked again: a half-made object would make openers wait.
//
// How an opener knows the object is ready:
//   - its size is no longer 0: tmpfs sets the size only when posix_fallocate has reserved every page,
//     so a non-zero size means step 3 is done (a plain PosixShm, with no init, is ready then);
//   - and, when the options carry is_ready, is_ready(fd, size) returns true (the channel passes a
//     check of its header's ready flag). Without is_ready an opener may see the object before init()
//     has finished: give both or neither.
//   An opener waits for both until ready_timeout has passed, then fails with kNotReady naming what
//   it waited for ("its size is still 0 after 1000 ms", or ready_what). A size smaller than the
//   opener needs is kInvalidArgument at once (the size is final once it is non-zero).
//
// Every object this OPENS (rather than creates) is checked before it is waited on or used: its
// owner must be this effective uid (root included) or allowed by options.trust, and its mode no
// wider than options.mode; otherwise kUntrusted naming the owner (uid and name) and the mode
// (ipckit/core/ownership.hpp). kOpenOrCreate: O_EXCL first, EEXIST -> open, ENOENT (unlinked in
// between) -> create again, a bounded number of rounds.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "ipckit/core/mapping.hpp"
#include "ipckit/core/open_mode.hpp"
#include "ipckit/core/ownership.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/core/unique_fd.hpp"

namespace ipckit {

/// How long an opener waits for a creator to finish a new object (docs/design.md, Lifecycle).
inline constexpr std::chrono::milliseconds kDefaultReadyTimeout{1000};

/// What create_or_open_shm() does: create, open or either, and what the creator writes and the
/// opener waits for.
struct ShmObjectOptions {
  OpenMode open = OpenMode::kCreateExclusive;  ///< create or open (called `open_mode` before 0.2)
  /// Creator: the bytes to allocate (> 0). Opener: the fewest bytes it accepts (0: any size > 0).
  std::size_t size = 0;
  /// Creator: the exact mode. Opener: the widest mode accepted (a wider one is kUntrusted).
  mode_t mode = kDefaultMode;
  /// Opener's access (a creator always opens read-write).
  Access access = Access::kReadWrite;
  /// How long an opener waits for the object to become ready.
  std::chrono::milliseconds ready_timeout = kDefaultReadyTimeout;
  /// Owners trusted besides this effective uid (opener only).
  TrustPolicy trust{};
  /// Creator only: runs on the fresh, sized, read-write descriptor before anyone can see it ready.
  /// An error here unlinks the name and is returned.
  std::function<Result<void>(int fd, std::size_t size)> init{};
  /// Opener only: true once the creator has finished init(). Called (repeatedly, with a growing
  /// pause) once the size is non-zero and large enough; an error ends the wait and is returned.
  std::function<Result<bool>(int fd, std::size_t size)> is_ready{};
  /// What is_ready waits for, for the kNotReady text: "the channel header's ready flag".
  std::string ready_what{};
};

/// An open shm object: the descriptor, the name and whether this call created it.
struct ShmObject {
  UniqueFd fd;       ///< the shm_open descriptor
  std::string name;  ///< the name ("/x")
  std::size_t size = 0;  ///< the created size, or the size found (>= options.size)
  Access access = Access::kReadWrite;  ///< the access the descriptor was opened with
  bool created = false;  ///< true when this call created the object
};

/// Creates or opens \p name ("/x") as options.open says: the creator shm_open()s with
/// O_CREAT|O_EXCL, fchmod()s to the exact mode, posix_fallocate()s the size, then runs init; an
/// opener checks owner and mode, then waits until the size is non-zero and is_ready (when given)
/// says true. Blocks only while waiting
/// for another creator to finish (up to options.ready_timeout). Thread- and process-safe: racing
/// creators and openers all end with the one object the winner initialised.
/// Errors: invalid name; size 0 or beyond off_t on create; EEXIST (kCreateExclusive), ENOENT
/// (kOpenExisting), EACCES, EMFILE, ENOSPC (hint: the size needed and the mount's free space);
/// kUntrusted (opened object with another owner or a wider mode); kNotReady; kInvalidArgument (an
/// existing object smaller than options.size); init's and is_ready's errors.
[[nodiscard]] IPCKIT_API Result<ShmObject> create_or_open_shm(std::string_view name,
                                                             const ShmObjectOptions& options);

}  // namespace ipckit
