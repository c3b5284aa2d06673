// SPDX-License-Identifier: Apache-2.0
// Anonymous pipes: pipe2(O_CLOEXEC) with a read end and a write end, capacity control and PIPE_BUF
// atomicity. FIFOs (fifo.hpp) hand out the same PipeReader/PipeWriter types.
//
// Mode: ipckit keeps its own pipe ends O_NONBLOCK (each end is its own open file description, so
// this never affects the other end or a child's copy of it). The blocking verbs write/read first and
// poll only on EAGAIN, so an uncontended transfer is one syscall and the try_/_until verbs need no
// fcntl. Hand a raw end to a program that expects a blocking descriptor with release() and
// set_nonblocking(fd, false).
//
// Atomicity: a write of at most PIPE_BUF (4096) bytes is never interleaved with other writers'
// data; write_all of a record that size is one write() (or, with try_write, none at all). Larger
// writes may be split and interleaved.
//
// SIGPIPE: writing to a pipe whose readers are all gone raises SIGPIPE. ipckit blocks it around the
// write (SigpipeBlock) and reports IoStatus::kPeerClosed. If the process ignores SIGPIPE when the end
// is made (sigpipe_ignored(), checked once), writes skip the two sigprocmask calls; a process that
// restores SIGPIPE's default action later must call recheck_sigpipe().
#pragma once

#include <climits>
#include <cstddef>
#include <string>
#include <utility>

#include "ipckit/core/result.hpp"
#include "ipckit/core/unique_fd.hpp"
#include "ipckit/stream/byte_stream.hpp"

namespace ipckit {

/// Largest write that a pipe never interleaves with other writers' data (PIPE_BUF, 4096 on Linux).
inline constexpr std::size_t kPipeAtomicWrite = PIPE_BUF;

/// Capacity of the pipe behind \p fd (F_GETPIPE_SZ). \p object names the pipe in error texts
/// (empty: the descriptor number). Not blocking.
[[nodiscard]] IPCKIT_API Result<std::size_t> pipe_capacity(int fd, std::string_view object = {});
/// Sets a new capacity for the pipe behind \p fd (F_SETPIPE_SZ; the kernel rounds
/// up to a power-of-two number of pages and the size it set is returned). Above
/// /proc/sys/fs/pipe-max-size the set fails with EPERM unless the caller has CAP_SYS_RESOURCE; the
/// error names the file and its value. Shrinking below the bytes in the pipe fails with EBUSY; a
/// size above INT_MAX is a kTooLarge error. Not blocking.
[[nodiscard]] IPCKIT_API Result<std::size_t> set_pipe_capacity(int fd, std::size_t bytes, std::string_view object = {});

/// The read end of a pipe or FIFO: a byte stream with the read verbs of StreamReadOps. Owns its
/// descriptor, which ipckit keeps O_NONBLOCK (see pipe.hpp); movable, not copyable.
class IPCKIT_API PipeReader : public StreamReadOps<PipeReader> {
 public:
  /// An empty reader (valid() is false).
  PipeReader() = default;
  /// Adopts a pipe or FIFO read end and makes it O_NONBLOCK. \p name is the object in
  /// error texts ("pipe", or a FIFO's path). Fails with the fcntl error (\p fd is then closed).
  [[nodiscard]] static Result<PipeReader> adopt(UniqueFd fd, std::string name);

  /// The descriptor (-1 when empty); still owned by this reader.
  [[nodiscard]] int native_handle() const noexcept { return fd_.get(); }
  /// Whether this reader holds a descriptor.
  [[nodiscard]] bool valid() const noexcept { return fd_.valid(); }
  /// The object named in error texts ("pipe", or a FIFO's path).
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  /// Hands over the descriptor (still O_NONBLOCK); the reader is left empty.
  [[nodiscard]] UniqueFd release() noexcept { return std::move(fd_); }
  /// Closes the read end; the reader is left empty. Errors: close(2)'s (the descriptor is gone
  /// either way).
  [[nodiscard]] Result<void> close() { return fd_.close(); }
  /// The pipe's capacity in bytes (see pipe_capacity()).
  [[nodiscard]] Result<std::size_t> capacity() const { return pipe_capacity(fd_.get(), name_); }
  /// Sets the pipe's capacity (see set_pipe_capacity()); returns the size the kernel set.
  [[nodiscard]] Result<std::size_t> set_capacity(std::size_t bytes) { return set_pipe_capacity(fd_.get(), bytes, name_); }

  /// What the StreamReadOps verbs operate on (no ownership).
  [[nodiscard]] detail::StreamFd stream_fd() const noexcept {
    return {fd_.get(), detail::StreamKind::kPipe, true, name_};
  }

 private:
  friend class Pipe;
  UniqueFd fd_;
  std::string name_;
};

/// The write end of a pipe or FIFO: a byte stream with the write verbs of StreamWriteOps. Owns its
/// descriptor, which ipckit keeps O_NONBLOCK; a write to a pipe with no reader reports
/// IoStatus::kPeerClosed instead of raising SIGPIPE (see pipe.hpp). Movable, not copyable.
class IPCKIT_API PipeWriter : public StreamWriteOps<PipeWriter> {
 public:
  /// An empty writer (valid() is false).
  PipeWriter() = default;
  /// Adopts a pipe or FIFO write end, makes it O_NONBLOCK and records whether SIGPIPE is ignored.
  /// \p name is the object in error texts. Fails with the fcntl error (\p fd is then closed).
  [[nodiscard]] static Result<PipeWriter> adopt(UniqueFd fd, std::string name);

  /// The descriptor (-1 when empty); still owned by this writer.
  [[nodiscard]] int native_handle() const noexcept { return fd_.get(); }
  /// Whether this writer holds a descriptor.
  [[nodiscard]] bool valid() const noexcept { return fd_.valid(); }
  /// The object named in error texts ("pipe", or a FIFO's path).
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  /// Hands over the descriptor (still O_NONBLOCK); the writer is left empty.
  [[nodiscard]] UniqueFd release() noexcept { return std::move(fd_); }
  /// Closes the write end; the writer is left empty. Closing the last write end gives readers end
  /// of stream. Errors: close(2)'s (the descriptor is gone either way).
  [[nodiscard]] Result<void> close() { return fd_.close(); }
  /// The pipe's capacity in bytes (see pipe_capacity()).
  [[nodiscard]] Result<std::size_t> capacity() const { return pipe_capacity(fd_.get(), name_); }
  /// Sets the pipe's capacity (see set_pipe_capacity()); returns the size the kernel set.
  [[nodiscard]] Result<std::size_t> set_capacity(std::size_t bytes) { return set_pipe_capacity(fd_.get(), bytes, name_); }
  /// Re-reads SIGPIPE's disposition (after the process changed it).
  void recheck_sigpipe() noexcept;
  /// Whether writes skip SigpipeBlock because SIGPIPE was ignored when last checked.
  [[nodiscard]] bool skips_sigpipe_block() const noexcept { return sigpipe_ignored_; }

  /// What the StreamWriteOps verbs operate on (no ownership).
  [[nodiscard]] detail::StreamFd stream_fd() const noexcept {
    return {fd_.get(), detail::StreamKind::kPipe, sigpipe_ignored_, name_};
  }

 private:
  friend class Pipe;
  UniqueFd fd_;
  std::string name_;
  bool sigpipe_ignored_ = false;
};

/// The two ends of a new pipe, from Pipe::create().
struct PipePair {
  PipeReader reader;  ///< the read end
  PipeWriter writer;  ///< the write end
};

/// Options for Pipe::create().
struct PipeOptions {
  /// Packet mode (pipe2 O_DIRECT, pipe(7)): every write() of at most PIPE_BUF (4096) bytes is one
  /// packet and every read() returns at most one, so message boundaries survive without framing.
  /// A read with a buffer smaller than the packet returns the start and the kernel DISCARDS the rest:
  /// read with a PIPE_BUF buffer. A write above PIPE_BUF is cut into PIPE_BUF packets. Zero-length
  /// writes make no packet. splice/vmsplice (splice.hpp) do not keep packets.
  bool packet = false;
};

/// Creates anonymous pipes.
class IPCKIT_API Pipe {
 public:
  /// pipe2(O_CLOEXEC). Not blocking. Errors: EMFILE/ENFILE with the limit to raise.
  [[nodiscard]] static Result<PipePair> create();
  /// The same with options: `create({.packet = true})` for a packet-mode pipe.
  [[nodiscard]] static Result<PipePair> create(PipeOptions options);
};

}  // namespace ipckit
