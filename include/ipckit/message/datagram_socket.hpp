// SPDX-License-Identifier: Apache-2.0
// DatagramSocket: a message-preserving socket (UNIX datagram or seqpacket, UDP over IPv4/IPv6).
//
// Each send is one message and each receive returns exactly one message: boundaries are kept. A
// message longer than the receive buffer is cut by the kernel; ipckit asks for the real length
// (MSG_TRUNC) and reports it in Datagram::truncated / Datagram::full_size: check it, the rest of the
// message is gone. Create sockets with UnixDatagram (unix_datagram.hpp) or Udp (udp.hpp).
//
// Delivery: UNIX datagram and seqpacket sockets are reliable and ordered (a full receiver makes the
// sender block or get would-block). UDP is neither: datagrams may be lost, duplicated or reordered,
// even on loopback under load; ipckit reports what arrived and hides nothing (docs/udp.md).
//
// Every blocking verb has three forms: send (blocks), try_send (never blocks: kWouldBlock),
// send_until(deadline) (kTimedOut). Expected outcomes are IoStatus values, real failures Errors.
// Thread safety: one socket may be used by several threads at once (each message is atomic), but
// close() must not race other calls. Never raises SIGPIPE (MSG_NOSIGNAL).
#pragma once

#include <cstddef>
#include <span>
#include <string>

#include "ipckit/core/deadline.hpp"
#include "ipckit/core/io.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/core/socket_address.hpp"
#include "ipckit/core/unique_fd.hpp"

namespace ipckit {

/// What one receive brought.
struct Datagram {
  /// kOk; kEndOfStream (seqpacket peer closed); kPeerClosed (UDP: an ICMP "port unreachable" for
  /// an earlier send); kWouldBlock; kTimedOut
  IoStatus status = IoStatus::kOk;
  std::size_t bytes = 0;            ///< bytes placed in the buffer
  std::size_t full_size = 0;        ///< the message's real length (> bytes when truncated)
  bool truncated = false;           ///< the message did not fit the buffer: its tail was discarded
  SocketAddress from;               ///< the sender (unconnected sockets; size() 0 for unnamed UNIX senders)
};

/// A message-preserving socket (UNIX datagram or seqpacket, UDP over IPv4/IPv6): each send is one
/// message and each receive returns exactly one. Create one with UnixDatagram or Udp.
/// Every blocking verb has three forms: send (blocks), try_send (never blocks: kWouldBlock),
/// send_until(deadline) (kTimedOut). Expected outcomes are IoStatus values, real failures Errors.
/// Thread safety: one socket may be used by several threads at once (each message is atomic), but
/// close() must not race other calls. Never raises SIGPIPE (MSG_NOSIGNAL).
class IPCKIT_API DatagramSocket {
 public:
  /// An empty socket (valid() is false).
  DatagramSocket() = default;
  /// Takes a socket; \p name is how errors name it (the address as the user wrote it).
  DatagramSocket(UniqueFd fd, std::string name) noexcept : fd_(std::move(fd)), name_(std::move(name)) {}

  /// The socket descriptor, for poll/epoll (readable = a message is queued). Stays owned here.
  [[nodiscard]] int native_handle() const noexcept { return fd_.get(); }
  /// How errors name the socket (the address as the user wrote it).
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  /// True when it holds a socket.
  [[nodiscard]] bool valid() const noexcept { return fd_.valid(); }

  /// Sends one message on a connected socket; blocks until it can be sent. kOk, or kPeerClosed
  /// when the peer is gone (EPIPE/ECONNREFUSED/ECONNRESET; for UDP an earlier ICMP "port
  /// unreachable"). Errors: EMSGSIZE with the limit named (SO_SNDBUF for UNIX sockets,
  /// 65507/65527 bytes for UDP).
  [[nodiscard]] Result<IoStatus> send(std::span<const std::byte> data);
  /// send() that never blocks: kWouldBlock when it cannot be sent now.
  [[nodiscard]] Result<IoStatus> try_send(std::span<const std::byte> data);
  /// send() that waits at most until \p deadline: kTimedOut when it could not be sent by then.
  [[nodiscard]] Result<IoStatus> send_until(std::span<const std::byte> data, Deadline deadline);

  /// Sends one message to \p to (unconnected datagram sockets); blocks until it can be sent.
  /// Errors: EMSGSIZE with the limit named, as send().
  [[nodiscard]] Result<IoStatus> send_to(const SocketAddress& to, std::span<const std::byte> data);
  /// send_to() that never blocks: kWouldBlock when it cannot be sent now.
  [[nodiscard]] Result<IoStatus> try_send_to(const SocketAddress& to, std::span<const std::byte> data);
  /// send_to() that waits at most until \p deadline: kTimedOut when it could not be sent by then.
  [[nodiscard]] Result<IoStatus> send_to_until(const SocketAddress& to, std::span<const std::byte> data,
                                               Deadline deadline);

  /// Receives one message into \p buf (see Datagram). Blocks until one arrives.
  [[nodiscard]] Result<Datagram> receive(std::span<std::byte> buf);
  /// receive() that never blocks: status kWouldBlock when nothing is queued.
  [[nodiscard]] Result<Datagram> try_receive(std::span<std::byte> buf);
  /// receive() that waits at most until \p deadline: status kTimedOut when nothing arrived by then.
  [[nodiscard]] Result<Datagram> receive_until(std::span<std::byte> buf, Deadline deadline);

  /// Length of the next queued message without consuming it (MSG_PEEK|MSG_TRUNC); blocks like receive.
  /// For sizing a buffer: a UNIX datagram can be up to SO_SNDBUF bytes, a UDP one 65527.
  [[nodiscard]] Result<std::size_t> next_size();

  /// Sets the default destination (datagram) and filters senders to it. Errors: connect's.
  [[nodiscard]] Result<void> connect(const SocketAddress& peer);

  /// SO_SNDBUF as the kernel reports it (see set_send_buffer_size()).
  [[nodiscard]] Result<int> send_buffer_size() const;
  /// Sets SO_SNDBUF. The kernel doubles the value asked for (bookkeeping overhead) and caps it
  /// at /proc/sys/net/core/wmem_max; the getter returns what the kernel reports.
  [[nodiscard]] Result<void> set_send_buffer_size(int bytes);
  /// SO_RCVBUF as the kernel reports it (see set_receive_buffer_size()).
  [[nodiscard]] Result<int> receive_buffer_size() const;
  /// Sets SO_RCVBUF. The kernel doubles the value asked for (bookkeeping overhead) and caps it
  /// at /proc/sys/net/core/rmem_max; the getter returns what the kernel reports.
  [[nodiscard]] Result<void> set_receive_buffer_size(int bytes);

  /// The address this socket is bound to (getsockname).
  [[nodiscard]] Result<SocketAddress> local_address() const;

  /// Closes now and reports what close() said; a bound path is not removed (unlink it yourself).
  [[nodiscard]] Result<void> close() { return fd_.close(); }

 private:
  UniqueFd fd_;
  std::string name_;
};

}  // namespace ipckit
