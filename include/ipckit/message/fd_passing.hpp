// SPDX-License-Identifier: Apache-2.0
// Passing file descriptors (SCM_RIGHTS) and credentials (SCM_CREDENTIALS) over a UNIX socket.
//
// Works on any connected UNIX socket: stream, seqpacket, datagram, or one end of a socketpair. The
// descriptors travel with the data: on stream sockets they arrive with the first byte of the bytes
// sent alongside them, so send at least one byte (ipckit requires it: stream sockets drop an empty
// message and its descriptors with it).
//
//   send_fds(sock, as_bytes("memfd"), {{memfd.get()}});               // sender keeps its copy
//   std::array<std::byte, 64> buf;
//   auto got = receive_fds(sock, buf);                               // got->fds: O_CLOEXEC UniqueFds
//
// Received descriptors are always O_CLOEXEC (MSG_CMSG_CLOEXEC), so an exec() in the receiver never
// leaks them. When the sender passed more descriptors than the receiver accepts (max_fds), the
// kernel truncates the control message (MSG_CTRUNC): receive_fds closes every descriptor that did
// arrive and fails with a "truncated" Error, so nothing leaks.
//
// Thread safety: the functions keep no state; two threads sending on one stream socket may
// interleave their bytes (as with write()); datagram and seqpacket messages are atomic.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <span>
#include <vector>

#include "ipckit/core/deadline.hpp"
#include "ipckit/core/io.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/core/unique_fd.hpp"

namespace ipckit {

/// The kernel's SCM_MAX_FD: most descriptors one message can carry (sendmsg fails with EINVAL above).
inline constexpr std::size_t kMaxFdsPerMessage = 253;

/// Who sent a message, as the kernel vouches for it (struct ucred).
struct Credentials {
  pid_t pid = 0;  ///< process id
  uid_t uid = 0;  ///< user id
  gid_t gid = 0;  ///< group id
  /// Equal when pid, uid and gid are.
  friend bool operator==(const Credentials&, const Credentials&) = default;
};

/// This process's pid, effective uid and effective gid.
[[nodiscard]] IPCKIT_API Credentials own_credentials() noexcept;

/// What one receive brought.
struct FdMessage {
  IoStatus status = IoStatus::kOk;   ///< kOk, or kEndOfStream / kWouldBlock / kTimedOut (nothing received)
  std::size_t bytes = 0;             ///< data bytes placed in the buffer
  bool data_truncated = false;       ///< datagram/seqpacket only: the message was longer than the buffer
  std::vector<UniqueFd> fds;         ///< the descriptors, in the order sent; O_CLOEXEC
  std::optional<Credentials> credentials;  ///< present when SO_PASSCRED is on (see enable_credentials)
};

/// Sends \p data (at least one byte) with \p fds (0..kMaxFdsPerMessage descriptors, which stay open in
/// the sender) over the connected UNIX socket \p socket_fd (SCM_RIGHTS). On a stream socket every
/// byte is sent (the rest after the first sendmsg goes with
/// send()). Blocks until sent; returns kOk or kPeerClosed (EPIPE/ECONNRESET: never SIGPIPE).
/// Errors: too many fds or empty data (invalid argument), EBADF for a bad descriptor in \p fds,
/// ETOOMANYREFS when descriptors in flight exceed RLIMIT_NOFILE, EMSGSIZE with SO_SNDBUF named.
[[nodiscard]] IPCKIT_API Result<IoStatus> send_fds(int socket_fd, std::span<const std::byte> data,
                                                   std::span<const int> fds);
/// send_fds() that never blocks for room: kWouldBlock when the socket buffer is full (nothing was
/// sent). On a stream
/// socket that took only part of \p data, the rest is completed (waiting if needed), because the
/// descriptors already left with the first bytes; keep such messages small (< SO_SNDBUF).
[[nodiscard]] IPCKIT_API Result<IoStatus> try_send_fds(int socket_fd, std::span<const std::byte> data,
                                                       std::span<const int> fds);
/// send_fds() that waits at most until \p deadline: kTimedOut when nothing could be sent by then
/// (a partly sent stream message is completed as in try_send_fds).
[[nodiscard]] IPCKIT_API Result<IoStatus> send_fds_until(int socket_fd, std::span<const std::byte> data,
                                                         std::span<const int> fds, Deadline deadline);

/// Sends \p data with explicit SCM_CREDENTIALS. The kernel checks the claim: a process may name its
/// own pid/uid/gid (or others' only with CAP_SYS_ADMIN / CAP_SETUID / CAP_SETGID), else EPERM.
/// Blocks like send_fds.
[[nodiscard]] IPCKIT_API Result<IoStatus> send_credentials(int socket_fd, std::span<const std::byte> data,
                                                           const Credentials& credentials = own_credentials());

/// Turns on SO_PASSCRED on the receiving socket: every message received afterwards carries the
/// sender's credentials (the kernel attaches them even when the sender sent none).
[[nodiscard]] IPCKIT_API Result<void> enable_credentials(int socket_fd);

/// The credentials of the peer of a connected UNIX socket at connect()/socketpair() time (SO_PEERCRED).
[[nodiscard]] IPCKIT_API Result<Credentials> peer_credentials(int socket_fd);

/// Receives one message into \p buf with up to \p max_fds descriptors (recvmsg with MSG_CMSG_CLOEXEC).
/// Blocks until a message arrives; kEndOfStream when the peer closed (stream/seqpacket). Errors:
/// "truncated" when more descriptors were sent than \p max_fds (every one that arrived is closed).
[[nodiscard]] IPCKIT_API Result<FdMessage> receive_fds(int socket_fd, std::span<std::byte> buf,
                                                       std::size_t max_fds = kMaxFdsPerMessage);
/// receive_fds() that never blocks: status kWouldBlock when nothing is queued.
[[nodiscard]] IPCKIT_API Result<FdMessage> try_receive_fds(int socket_fd, std::span<std::byte> buf,
                                                           std::size_t max_fds = kMaxFdsPerMessage);
/// receive_fds() that waits at most until \p deadline: status kTimedOut when nothing arrived by then.
[[nodiscard]] IPCKIT_API Result<FdMessage> receive_fds_until(int socket_fd, std::span<std::byte> buf,
                                                             Deadline deadline,
                                                             std::size_t max_fds = kMaxFdsPerMessage);

}  // namespace ipckit
