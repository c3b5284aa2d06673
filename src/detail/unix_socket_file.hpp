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

#include <string>

#include "ipckit/core/result.hpp"

namespace ipckit::detail {

// `path` is where bind() found a file (EADDRINUSE/EEXIST); `call` and `object` name the bind in the
// Error. Success: the path is free now (the stale file was removed, or it vanished meanwhile):
// bind again. Errors (EADDRINUSE unless noted): not a socket, another user's (kUntrusted), live,
// or not provably stale (sock_diag unavailable); each hint says what to do in shell terms.
[[nodiscard]] Result<void> replace_stale_socket_file(const std::string& path, const std::string& call,
                                                     const std::string& object);

}  // namespace ipckit::detail
