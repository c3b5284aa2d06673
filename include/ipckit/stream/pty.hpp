// SPDX-License-Identifier: Apache-2.0
// Pseudoterminals: open a master/slave pair (posix_openpt, grantpt, unlockpt, ptsname_r), run a
// child with the slave as its controlling terminal (setsid + TIOCSCTTY), set the window size, and
// read what the child prints.
//
// The master is a byte stream with the verbs of byte_stream.hpp. Like pipe ends it is kept
// O_NONBLOCK by ipckit (blocking verbs poll on EAGAIN). When every descriptor of the slave is closed
// (the child and its descendants exited) a read on the master fails with EIO: ipckit reports that as
// IoStatus::kEndOfStream, after the data still buffered has been read. The terminal's line discipline
// is in effect (cooked mode): a child's "\n" arrives as "\r\n", and what the master writes is echoed.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ipckit/core/result.hpp"
#include "ipckit/core/unique_fd.hpp"
#include "ipckit/stream/byte_stream.hpp"
#include "ipckit/stream/subprocess.hpp"

namespace ipckit {

/// A terminal's size in character cells.
struct WindowSize {
  std::uint16_t rows = 24;  ///< lines
  std::uint16_t cols = 80;  ///< columns
};

/// A pseudoterminal master, a byte stream with the verbs of StreamReadOps and StreamWriteOps (see
/// pty.hpp), and the path of its slave. Owns the master descriptor; movable, not copyable.
class IPCKIT_API Pty : public StreamReadOps<Pty>, public StreamWriteOps<Pty> {
 public:
  /// No terminal.
  Pty() = default;

  /// A new pair: the master (O_RDWR, close-on-exec, O_NOCTTY) and the slave's path (/dev/pts/N),
  /// granted and unlocked. Not blocking. Errors: posix_openpt's ENOENT when devpts is not mounted,
  /// EAGAIN/ENOSPC at /proc/sys/kernel/pty/max.
  [[nodiscard]] static Result<Pty> open();
  /// Opens the slave (O_RDWR | O_NOCTTY | O_CLOEXEC): it does not become this process's terminal.
  [[nodiscard]] Result<UniqueFd> open_slave() const;

  /// TIOCSWINSZ on the master; the child's foreground process group gets SIGWINCH.
  [[nodiscard]] Result<void> set_window_size(WindowSize size);
  /// TIOCGWINSZ on the master: the current window size.
  [[nodiscard]] Result<WindowSize> window_size() const;

  /// The master descriptor (-1 when empty); still owned by this object.
  [[nodiscard]] int native_handle() const noexcept { return master_.get(); }
  /// The slave's path (/dev/pts/N).
  [[nodiscard]] const std::string& slave_path() const noexcept { return slave_path_; }

  /// What the stream verbs operate on (no ownership).
  [[nodiscard]] detail::StreamFd stream_fd() const noexcept {
    // Writes to a terminal never raise SIGPIPE: no SigpipeBlock needed.
    return {master_.get(), detail::StreamKind::kTerminal, true, slave_path_};
  }

 private:
  UniqueFd master_;
  std::string slave_path_;
};

/// A child running on a pseudoterminal.
struct PtyProcess {
  Pty pty;             ///< the master side, for the parent
  Subprocess process;  ///< the child
};

/// Opens a pty, sets its window size, and spawns argv with the slave as stdin, stdout, stderr and
/// controlling terminal (in a new session). The parent's copy of the slave is closed before this
/// returns, so reads on pty see end of stream once the child's side is closed. \p options may set
/// env and cwd; its stdio and session fields are overwritten.
[[nodiscard]] IPCKIT_API Result<PtyProcess> spawn_on_pty(const std::vector<std::string>& argv, WindowSize size = {},
                                                         SubprocessOptions options = {});

}  // namespace ipckit
