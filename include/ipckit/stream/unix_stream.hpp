// SPDX-License-Identifier: Apache-2.0
// UNIX stream sockets: listen, accept, connect on a filesystem path ("/run/app.sock") or a Linux
// abstract name ("@app"), socketpair, shutdown and SO_PEERCRED. Connections are StreamSockets, the
// same type TCP uses (stream_socket.hpp).
//
// Socket files are created 0600 without touching the umask: bind() happens inside a fresh 0700
// directory next to the target, the file is chmod()ed there, where nobody else can reach it, and then
// renamed into place with RENAME_NOREPLACE. No moment exists where the socket is reachable with
// looser permissions, and an existing file is never silently replaced.
#pragma once

#include <sys/types.h>

#include <string_view>
#include <utility>

#include "ipckit/core/attempt.hpp"
#include "ipckit/core/deadline.hpp"
#include "ipckit/core/open_mode.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/stream/stream_socket.hpp"

namespace ipckit {

/// Options for UnixStream::listen().
struct UnixListenOptions {
  mode_t mode = kDefaultMode;  ///< permission of the socket file (ignored for `@abstract` names)
  int backlog = 128;           ///< listen(2) backlog (the kernel caps it at /proc/sys/net/core/somaxconn)
  /// When the path exists: remove it only if it is a socket, owned by this user, and connect() to it
  /// gives ECONNREFUSED (nobody listens: a crashed server's leftover). Otherwise bind fails with EEXIST.
  bool remove_stale = true;
};

/// UNIX stream sockets on a filesystem path or a Linux abstract name (`@name`).
class IPCKIT_API UnixStream {
 public:
  /// Binds and listens on \p address ("/path" or "\@name"). Not blocking. Errors: EEXIST when the path
  /// exists and is not a stale socket of ours (the text says which check failed); EADDRINUSE for a
  /// taken abstract name; ENOENT/EACCES for the directory; a too-long path names sun_path's limit.
  [[nodiscard]] static Result<StreamListener> listen(std::string_view address, const UnixListenOptions& options = {});

  /// Connects to a listener; blocks only while the listener's backlog is full. Errors: ENOENT (no
  /// such socket file), ECONNREFUSED (nobody listens), EACCES (permissions).
  [[nodiscard]] static Result<StreamSocket> connect(std::string_view address);
  /// Like connect(), but gives up at \p deadline when the backlog stays full (no socket, kTimedOut).
  [[nodiscard]] static Result<Attempt<StreamSocket>> connect_until(std::string_view address, Deadline deadline);

  /// A connected pair (socketpair AF_UNIX SOCK_STREAM, close-on-exec), e.g. to talk to a child.
  [[nodiscard]] static Result<std::pair<StreamSocket, StreamSocket>> pair();

  /// Removes a socket file by path: only if it is a socket (a regular file at that path is an EEXIST
  /// error naming what it is). Missing is not an error.
  [[nodiscard]] static Result<void> remove(std::string_view path);
};

}  // namespace ipckit
