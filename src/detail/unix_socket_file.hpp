// SPDX-License-Identifier: Apache-2.0
// Private helper shared by the UNIX stream, datagram and seqpacket listeners: what to do with a
// socket file already at the path a listener binds.
//
// A file no socket is bound to (its server died) is replaced; a live one is refused, naming its
// holder when /proc shows it; a file another user owns is refused naming the owner; anything that
// is not a socket is left alone. "Live" is asked of the kernel (sock_diag: is any socket bound to
// this file's inode?), never by connecting to it: a probe connection is accepted by the live server
// as a client (a one-connection `ipckit recv` then takes the probe for its sender and exits).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ipckit/core/result.hpp"

namespace ipckit::detail {

// `path` is where bind() found a file (EADDRINUSE/EEXIST); `call` and `object` name the bind in the
// Error. Success: the path is free now (the stale file was removed, or it vanished meanwhile):
// bind again. Errors (EADDRINUSE unless noted): not a socket, another user's (kUntrusted), live,
// or not provably stale (sock_diag unavailable); each hint says what to do in shell terms.
[[nodiscard]] Result<void> replace_stale_socket_file(const std::string& path, const std::string& call,
                                                     const std::string& object);

// A UNIX socket bound to a file: the file's device (the kernel's major/minor) and inode, and the
// socket's own inode (socket:[N] in /proc/PID/fd).
struct BoundSocketFile {
  std::uint32_t dev_major = 0;
  std::uint32_t dev_minor = 0;
  std::uint64_t ino = 0;
  std::uint32_t socket_inode = 0;
};
struct BoundSocketScan {
  bool complete = false;  // false: sock_diag could not be asked (`why`); `files` proves nothing
  std::string why;
  std::vector<BoundSocketFile> files;
};
// Every UNIX socket bound to a file, as sock_diag (UDIAG_SHOW_VFS) reports them, in this thread's
// network namespace or (netns_fd >= 0, a /proc/PID/ns/net descriptor; needs CAP_SYS_ADMIN) in that
// one. Blocking: one netlink dump. Never sends anything to a socket.
[[nodiscard]] BoundSocketScan scan_bound_socket_files(int netns_fd = -1);

}  // namespace ipckit::detail
