// SPDX-License-Identifier: Apache-2.0
// StreamSocket and StreamListener: one connected byte stream and one listening socket, the same
// types for UNIX stream sockets (unix_stream.hpp) and TCP (tcp.hpp), so code written for one works
// with the other.
//
// A StreamSocket reads and writes with the verbs of byte_stream.hpp. Sends use MSG_NOSIGNAL: a
// closed peer is IoStatus::kPeerClosed, never SIGPIPE. The descriptor keeps the blocking mode the
// socket was made with (blocking by default): the blocking verbs are then one plain send()/recv(),
// and the try_/_until verbs pass MSG_DONTWAIT and poll, so one socket can mix all three forms.
//
// Thread safety: one thread may read while another writes the same socket; two concurrent writers
// (or readers) may interleave their bytes. Process safety: after fork() both processes share the
// connection; the kernel keeps each send() whole only for its own call, not across write_all loops.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>

#include "ipckit/core/attempt.hpp"
#include "ipckit/core/deadline.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/core/socket_address.hpp"
#include "ipckit/core/unique_fd.hpp"
#include "ipckit/stream/byte_stream.hpp"

namespace ipckit {

/// Who is on the other end of a UNIX socket (SO_PEERCRED): the credentials the peer had when it
/// called connect() (or socketpair()), translated into this process's namespaces.
struct PeerCredentials {
  pid_t pid = 0;  ///< the peer's process id
  uid_t uid = 0;  ///< the peer's effective user id
  gid_t gid = 0;  ///< the peer's effective group id
};

/// Which direction shutdown() ends: kRead (SHUT_RD), kWrite (SHUT_WR: the peer reads end of
/// stream) or kBoth (SHUT_RDWR).
enum class ShutdownHow { kRead = SHUT_RD, kWrite = SHUT_WR, kBoth = SHUT_RDWR };

/// A connected stream socket (UNIX or TCP), a byte stream with the verbs of StreamReadOps and
/// StreamWriteOps. Owns its descriptor; movable, not copyable. One thread may read while another
/// writes (see stream_socket.hpp).
class IPCKIT_API StreamSocket : public StreamReadOps<StreamSocket>, public StreamWriteOps<StreamSocket> {
 public:
  /// An empty socket (valid() is false).
  StreamSocket() = default;
  /// Adopts a connected stream socket; \p name is the object in error texts (an address, "socketpair").
  StreamSocket(UniqueFd fd, std::string name) : fd_(std::move(fd)), name_(std::move(name)) {}

  /// The descriptor (-1 when empty); still owned by this socket.
  [[nodiscard]] int native_handle() const noexcept { return fd_.get(); }
  /// Whether this socket holds a descriptor.
  [[nodiscard]] bool valid() const noexcept { return fd_.valid(); }
  /// The object named in error texts (an address, "socketpair").
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  /// Gives up the descriptor without closing it.
  [[nodiscard]] UniqueFd release() noexcept { return std::move(fd_); }
  /// Closes the descriptor now (a blocked peer read then sees end of stream); the socket is left
  /// empty. Errors: close(2)'s (the descriptor is gone either way).
  [[nodiscard]] Result<void> close() { return fd_.close(); }

  /// shutdown(2): kWrite sends end of stream to the peer while this side can still read its reply.
  /// Errors: ENOTCONN if the socket is not connected.
  [[nodiscard]] Result<void> shutdown(ShutdownHow how);

  /// SO_PEERCRED of the peer. Meaningful for UNIX sockets only (on TCP the kernel reports pid 0 and
  /// the overflow uid/gid). Not blocking. Errors: EBADF/ENOTSOCK for a closed or non-socket fd.
  [[nodiscard]] Result<PeerCredentials> peer_credentials() const;
  /// TCP_NODELAY on or off (TCP only): on sends small writes at once instead of coalescing them.
  [[nodiscard]] Result<void> set_nodelay(bool on);
  /// This end's address (getsockname).
  [[nodiscard]] Result<SocketAddress> local_address() const { return SocketAddress::local_of(fd_.get()); }
  /// The peer's address (getpeername).
  [[nodiscard]] Result<SocketAddress> peer_address() const { return SocketAddress::peer_of(fd_.get()); }

  /// For the verbs of byte_stream.hpp (no ownership).
  [[nodiscard]] detail::StreamFd stream_fd() const noexcept {
    return {fd_.get(), detail::StreamKind::kSocket, true, name_};
  }

 private:
  UniqueFd fd_;
  std::string name_;
};

/// A listening stream socket. Destruction closes the descriptor and removes nothing: a UNIX socket
/// file stays until unlink() or close_and_unlink() (docs/design.md, Lifecycle). Movable, not copyable.
class IPCKIT_API StreamListener {
 public:
  /// No listener.
  StreamListener() = default;
  /// Adopts a listening socket, which must be O_NONBLOCK (as the UnixStream and Tcp factories make
  /// it): try_accept() relies on that. \p name is the object in error texts. \p unlink_path: the
  /// socket file close_and_unlink() may remove ("" for none); its device and inode are recorded now.
  StreamListener(UniqueFd fd, std::string name, std::string unlink_path = {});

  /// Blocks until a peer connects. Thread-safe (the kernel hands each connection to one caller).
  /// Errors: EMFILE/ENFILE (descriptor limits), ECONNABORTED is retried.
  [[nodiscard]] Result<StreamSocket> accept();
  /// Never blocks: a connection if one is queued, else none with kWouldBlock.
  [[nodiscard]] Result<Attempt<StreamSocket>> try_accept();
  /// Waits until \p deadline: a connection, or none with kTimedOut when nobody connected in time.
  [[nodiscard]] Result<Attempt<StreamSocket>> accept_until(Deadline deadline);

  /// The listening descriptor (-1 when empty); still owned by this listener.
  [[nodiscard]] int native_handle() const noexcept { return fd_.get(); }
  /// The object named in error texts (the address listened on).
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  /// The address clients connect to (for TCP port 0: the port the kernel chose; for a UNIX path
  /// listener: the published path, not the private path bind() used, see unix_stream.hpp).
  [[nodiscard]] Result<SocketAddress> local_address() const;
  /// Closes the listener, then removes its socket file if it is still the one this listener created
  /// (same device and inode), so a newer server's socket at that path is never removed. No-op for
  /// abstract and TCP listeners. Errors: unlink() failures other than ENOENT.
  [[nodiscard]] Result<void> close_and_unlink();

 private:
  UniqueFd fd_;
  std::string name_;
  std::string unlink_path_;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
};

}  // namespace ipckit
