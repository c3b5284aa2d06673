// SPDX-License-Identifier: Apache-2.0
// UNIX datagram (SOCK_DGRAM) and seqpacket (SOCK_SEQPACKET) sockets.
//
// Both keep message boundaries and are reliable and ordered on one machine. Datagram sockets are
// connectionless: a bound socket receives from anyone who knows its address (send_to), or a
// connected one talks to one peer. Seqpacket sockets are connection-oriented like stream sockets
// (listen/accept, end of stream when the peer closes) but deliver whole messages.
//
// Addresses: "/path" (a socket file, which bind() creates and nothing removes: unlink it, or use an
// abstract name) or "@name" (Linux abstract namespace: no file, gone with the last socket).
// A message can be at most about SO_SNDBUF bytes (EMSGSIZE names it); a datagram receiver whose
// queue is full (/proc/sys/net/unix/max_dgram_qlen messages, or SO_RCVBUF) makes senders block.
#pragma once

#include <string_view>
#include <utility>

#include "ipckit/core/attempt.hpp"
#include "ipckit/message/datagram_socket.hpp"

namespace ipckit {

/// The kind of message-preserving UNIX socket.
enum class UnixMessageKind {
  kDatagram,   ///< SOCK_DGRAM
  kSeqPacket,  ///< SOCK_SEQPACKET
};

/// Factories for UNIX datagram (SOCK_DGRAM) and seqpacket (SOCK_SEQPACKET) sockets. Addresses are
/// "/path" (a socket file, which bind() creates and nothing removes: see unlink_socket()) or
/// `"@name"` (Linux abstract namespace: no file, gone with the last socket).
/// All sockets are O_CLOEXEC and blocking (try_/_until forms never block anyway).
struct IPCKIT_API UnixDatagram {
  /// A datagram socket bound to \p address (receives from any sender). EADDRINUSE when the path
  /// exists: the hint says to remove a stale socket file.
  [[nodiscard]] static Result<DatagramSocket> bind(std::string_view address);
  /// A datagram socket connected to \p address, optionally bound to \p local first so the peer can
  /// answer (an unbound UNIX datagram sender has no address).
  [[nodiscard]] static Result<DatagramSocket> connect(std::string_view address, std::string_view local = {});
  /// A connected pair (socketpair), e.g. to hand one end to a child.
  [[nodiscard]] static Result<std::pair<DatagramSocket, DatagramSocket>> pair(UnixMessageKind kind);
  /// A seqpacket client connected to a SeqPacketListener at \p address.
  [[nodiscard]] static Result<DatagramSocket> connect_seqpacket(std::string_view address);
};

/// A listening seqpacket socket. accept() gives one connected DatagramSocket per client.
class IPCKIT_API SeqPacketListener {
 public:
  /// Binds and listens on \p address. Errors as UnixDatagram::bind.
  [[nodiscard]] static Result<SeqPacketListener> listen(std::string_view address, int backlog = 16);

  /// Blocks until a client connects.
  [[nodiscard]] Result<DatagramSocket> accept();
  /// Never blocks: a connection, or none with kWouldBlock when no client is waiting.
  [[nodiscard]] Result<Attempt<DatagramSocket>> try_accept();
  /// Waits until \p deadline: a connection, or none with kTimedOut when none came.
  [[nodiscard]] Result<Attempt<DatagramSocket>> accept_until(Deadline deadline);

  /// The listening descriptor, for poll/epoll (readable = a client is waiting). Stays owned here.
  [[nodiscard]] int native_handle() const noexcept { return fd_.get(); }
  /// The address it listens on, as given to listen().
  [[nodiscard]] const std::string& name() const noexcept { return name_; }

 private:
  SeqPacketListener(UniqueFd fd, std::string name) : fd_(std::move(fd)), name_(std::move(name)) {}
  UniqueFd fd_;
  std::string name_;
};

/// Removes the socket file of a path address (`"@abstract"` needs nothing). ENOENT is an error.
[[nodiscard]] IPCKIT_API Result<void> unlink_socket(std::string_view address);

}  // namespace ipckit
