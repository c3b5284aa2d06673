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

#include "ipckit/core/deadline.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/core/socket_address.hpp"
#include "ipckit/core/unique_fd.hpp"
#include "ipckit/stream/byte_stream.hpp"

namespace ipckit {

// Who is on the other end of a UNIX socket (SO_PEERCRED): the credentials the peer had when it
// called connect() (or socketpair()), translated into this process's namespaces.
struct PeerCredentials {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

// Which direction shutdown() ends.
enum class ShutdownHow { kRead = SHUT_RD, kWrite = SHUT_WR, kBoth = SHUT_RDWR };

class IPCKIT_API StreamSocket : public StreamReadOps<StreamSocket>, public StreamWriteOps<StreamSocket> {
 public:
  StreamSocket() = default;
  // Adopts a connected stream socket; `name` is the object in error texts (an address, "socketpair").
  StreamSocket(UniqueFd fd, std::string name) : fd_(std::move(fd)), name_(std::move(name)) {}

  [[nodiscard]] int native_handle() const noexcept { return fd_.get(); }
  [[nodiscard]] bool valid() const noexcept { return fd_.valid(); }
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  // Gives up the descriptor without closing it.
  [[nodiscard]] UniqueFd release() noexcept { return std::move(fd_); }
  // Closes the descriptor now (a blocked peer read then sees end of stream).
  void close() noexcept { fd_.reset(); }

  // shutdown(2): kWrite sends end of stream to the peer while this side can still read its reply.
  // Errors: ENOTCONN if the socket is not connected.
  [[nodiscard]] Result<void> shutdown(ShutdownHow how);

  // SO_PEERCRED of the peer. Meaningful for UNIX sockets only (on TCP the kernel reports pid 0 and
  // the overflow uid/gid). Not blocking. Errors: EBADF/ENOTSOCK for a closed or non-socket fd.
  [[nodiscard]] Result<PeerCredentials> peer_credentials() const;
  // TCP_NODELAY on or off (TCP only): on sends small writes at once instead of coalescing them.
  [[nodiscard]] Result<void> set_nodelay(bool on);
  [[nodiscard]] Result<SocketAddress> local_address() const { return SocketAddress::local_of(fd_.get()); }
  [[nodiscard]] Result<SocketAddress> peer_address() const { return SocketAddress::peer_of(fd_.get()); }

  // For the verbs of byte_stream.hpp.
  [[nodiscard]] detail::StreamFd stream_fd() const noexcept {
    return {fd_.get(), detail::StreamKind::kSocket, true, name_};
  }

 private:
  UniqueFd fd_;
  std::string name_;
};

// A listening stream socket. Destruction closes the descriptor and removes nothing: a UNIX socket
// file stays until unlink() (docs/design.md, Lifecycle).
class IPCKIT_API StreamListener {
 public:
  StreamListener() = default;
  // Adopts a listening socket. `unlink_path`: the socket file unlink() may remove ("" for none).
  StreamListener(UniqueFd fd, std::string name, std::string unlink_path = {});

  // Blocks until a peer connects. Thread-safe (the kernel hands each connection to one caller).
  // Errors: EMFILE/ENFILE (descriptor limits), ECONNABORTED is retried.
  [[nodiscard]] Result<StreamSocket> accept();
  // Never blocks: a connection if one is queued, else nullopt.
  [[nodiscard]] Result<std::optional<StreamSocket>> try_accept();
  // Waits until `deadline`: nullopt when nobody connected in time.
  [[nodiscard]] Result<std::optional<StreamSocket>> accept_until(Deadline deadline);

  [[nodiscard]] int native_handle() const noexcept { return fd_.get(); }
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  // The address clients connect to (for TCP port 0: the port the kernel chose; for a UNIX path
  // listener: the published path, not the private path bind() used, see unix_stream.hpp).
  [[nodiscard]] Result<SocketAddress> local_address() const;
  // Closes the listener, then removes its socket file if it is still the one this listener created
  // (same device and inode), so a newer server's socket at that path is never removed. No-op for
  // abstract and TCP listeners. Errors: unlink() failures other than ENOENT.
  [[nodiscard]] Result<void> close_and_unlink();

 private:
  UniqueFd fd_;
  std::string name_;
  std::string unlink_path_;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
};

}  // namespace ipckit
