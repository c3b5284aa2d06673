// SPDX-License-Identifier: Apache-2.0
// FIFOs (named pipes): mkfifo 0600, open with the kernel's real blocking semantics or a deadline,
// remove. The ends are the PipeReader/PipeWriter of pipe.hpp, named by the FIFO's path.
//
// Opening semantics (fifo(7)): a blocking open for reading waits until a writer opens, and one for
// writing waits until a reader opens. A non-blocking open for reading always succeeds; a
// non-blocking open for writing with no reader fails with ENXIO. Once open, ipckit keeps its end
// O_NONBLOCK (see pipe.hpp), which affects only this open file description.
//
// Trust: a FIFO path is often in a shared directory (/tmp), where another user can create it first.
// Every open_* refuses a path that is a symbolic link (lstat, then O_NOFOLLOW) and, once open,
// fstat()s the FIFO: owned by another user not in FifoOpenOptions::trust, or with a mode wider than
// FifoOpenOptions::mode (0600 by default), the descriptor is closed again and the call fails with
// kUntrusted naming the owner and the mode. (A blocking open has waited for the peer by then: the
// check runs before any byte is read or written.)
#pragma once

#include <sys/types.h>

#include <optional>
#include <string_view>

#include "ipckit/core/attempt.hpp"
#include "ipckit/core/deadline.hpp"
#include "ipckit/core/open_mode.hpp"
#include "ipckit/core/ownership.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/stream/pipe.hpp"

namespace ipckit {

/// What an opener accepts of a FIFO another process created.
struct FifoOpenOptions {
  mode_t mode = kDefaultMode;  ///< the widest mode accepted (a wider one is kUntrusted)
  TrustPolicy trust{};         ///< owners trusted besides this effective uid
};

/// Creating, opening and removing FIFOs (named pipes); the ends are PipeReader and PipeWriter,
/// named by the FIFO's path. Every open_* refuses symbolic links and untrusted FIFOs (kUntrusted).
class IPCKIT_API Fifo {
 public:
  /// mkfifo(path, permissions) with \p permissions applied exactly (chmod after mkfifo: the umask
  /// does not narrow it).
  /// kCreateExclusive fails with EEXIST if anything exists there; kOpenOrCreate accepts an existing
  /// FIFO but fails with EEXIST naming the file type when the path is something else. Not blocking.
  [[nodiscard]] static Result<void> create(std::string_view path, OpenMode mode = OpenMode::kCreateExclusive,
                                           mode_t permissions = kDefaultMode);
  /// Removes the FIFO; fails with EINVAL naming the file type if the path is not a FIFO, so a
  /// mistyped path never deletes a regular file. Missing is not an error.
  [[nodiscard]] static Result<void> remove(std::string_view path);

  /// Blocks until a writer opens the FIFO. Errors: ENOENT (no FIFO: create it first), EACCES, and
  /// EINVAL when the path exists but is not a FIFO.
  [[nodiscard]] static Result<PipeReader> open_reader(std::string_view path, const FifoOpenOptions& options = {});
  /// Waits for a writer until \p deadline (no reader, kTimedOut, when it passes). Implemented as a non-blocking open
  /// (which never waits) and a poll until the first writer writes or opens and closes again: Linux
  /// signals neither a writer's open() nor its presence, so a writer that opens but stays silent
  /// until the deadline counts as a timeout. The kernel's own blocking open is open_reader().
  [[nodiscard]] static Result<Attempt<PipeReader>> open_reader_until(std::string_view path, Deadline deadline,
                                                                  const FifoOpenOptions& options = {});
  /// Never blocks: opens for reading whether or not a writer exists (reads then see end of stream
  /// until one writes).
  [[nodiscard]] static Result<PipeReader> try_open_reader(std::string_view path, const FifoOpenOptions& options = {});

  /// Blocks until a reader opens the FIFO.
  [[nodiscard]] static Result<PipeWriter> open_writer(std::string_view path, const FifoOpenOptions& options = {});
  /// Retries a non-blocking open until a reader appears or \p deadline passes (no writer, kTimedOut). Linux has no
  /// event for "a reader opened", so this polls with a growing pause (1 ms up to 20 ms).
  [[nodiscard]] static Result<Attempt<PipeWriter>> open_writer_until(std::string_view path, Deadline deadline,
                                                                  const FifoOpenOptions& options = {});
  /// Never blocks. With no reader this fails with ENXIO and says what to do.
  [[nodiscard]] static Result<PipeWriter> try_open_writer(std::string_view path, const FifoOpenOptions& options = {});
};

}  // namespace ipckit
