// SPDX-License-Identifier: Apache-2.0
// FdSession: a TransportSession over file descriptors (pipes, FIFOs, sockets), shared by the kernel
// drivers. The parent creates the descriptors (owned_); each side keeps the ones its role uses and
// closes the rest, so end-of-stream reaches the reader when the writer closes.
#pragma once

#include <array>
#include <string>

#include "engine/transport.hpp"
#include "ipckit/core/socket_address.hpp"
#include "ipckit/core/unique_fd.hpp"

namespace ipckit::bench {

class FdSession : public TransportSession {
 public:
  FdSession(Kind kind, bool lossy, bool socket) noexcept : TransportSession(kind, lossy), socket_(socket) {}

  [[nodiscard]] Result<void> prepare(Role role) override;
  void after_fork() noexcept override;

 protected:
  struct Ends {
    int in = -1;   // index into owned_ of the descriptor this side reads
    int out = -1;  // ... and writes (the same index for a socket)
  };
  // Subclasses fill these in the parent (open()) or in prepare() before calling FdSession::prepare.
  std::array<UniqueFd, 4> owned_;
  Ends ends_[2];

  [[nodiscard]] Result<bool> send(std::span<const std::byte> frame) override;
  [[nodiscard]] Result<std::optional<std::size_t>> receive(std::span<std::byte> buf) override;
  [[nodiscard]] Result<void> finish_sending() override;

 private:
  bool socket_;
  int in_fd_ = -1;
  int out_fd_ = -1;
  int out_index_ = -1;
};

// A connected stream or seqpacket socket: the parent listens on `address` (bound in open()); the
// receiver accepts and the sender connects in prepare(). owned_[0] = sender socket, owned_[1] =
// receiver socket, owned_[2] = listener.
class ListenerSession : public FdSession {
 public:
  ListenerSession(Kind kind, int type) noexcept : FdSession(kind, false, true), type_(type) {
    ends_[0] = {0, 0};
    ends_[1] = {1, 1};
  }
  // Parent: binds and listens. For inet addresses pass port 0; the bound port is read back.
  // `message_size` (seqpacket): both ends get buffers that hold a frame (a seqpacket send larger
  // than the send buffer fails with EMSGSIZE); 0 leaves the defaults (streams).
  [[nodiscard]] Result<void> listen_on(SocketAddress address, bool nodelay, std::size_t message_size = 0);
  [[nodiscard]] Result<void> prepare(Role role) override;

 private:
  int type_;
  bool nodelay_ = false;
  std::size_t message_size_ = 0;
  SocketAddress address_;
};

// Raises the socket's send and receive buffers so frames of `message_size` fit, as far as the
// system allows (net.core.wmem_max/rmem_max; the bench never writes /proc/sys). `receive_buffer`
// overrides the receive size (lossy datagram receivers ask for more).
void raise_socket_buffers(int fd, std::size_t message_size, int receive_buffer = 0) noexcept;

// A pair of datagram sockets bound to `a` (sender) and `b` (receiver) and connected to each other,
// created in the parent. lossy: receives time out (SO_RCVTIMEO) so lost frames cannot hang a side.
[[nodiscard]] Result<void> make_datagram_pair(std::array<UniqueFd, 4>& owned, const SocketAddress& a,
                                              const SocketAddress& b, int type, bool lossy,
                                              std::size_t size);

// Reads one unsigned number from a /proc file (e.g. /proc/sys/fs/mqueue/msgsize_max).
[[nodiscard]] std::optional<unsigned long long> read_proc_number(const char* path);

}  // namespace ipckit::bench
