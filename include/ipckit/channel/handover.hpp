// SPDX-License-Identifier: Apache-2.0
/// @file
/// memfd hand-over: an SPSC channel in an anonymous, sealed memfd (no name in /dev/shm), handed to a
/// peer over a UNIX socket (SCM_RIGHTS). See docs/channel.md "memfd hand-over".
///
/// @code
///   auto mem = create_memfd_channel("telemetry", options);        // process A: sealed, initialised
///   auto tx  = SpscProducer::open_memfd(*mem, options);
///   send_channel(sock, *mem);                                      // A -> B over a UNIX socket
///   auto got = receive_channel(sock, deadline_after(5s));          // process B: seals + size checked
///   auto rx  = SpscConsumer::open_memfd(*got, options);            // header checked as usual
/// @endcode
#pragma once

#include <string_view>

#include "ipckit/channel/options.hpp"
#include "ipckit/core/deadline.hpp"
#include "ipckit/core/io.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/export.hpp"
#include "ipckit/memory/memfd.hpp"

namespace ipckit {

/// Seals every channel memfd carries: its size can never change (a peer cannot shrink it under our
/// mapping: no SIGBUS), and no seal can be added or removed afterwards (F_SEAL_SEAL).
inline constexpr unsigned kChannelMemfdSeals = seal::kShrink | seal::kGrow | seal::kSeal;
/// The seals a receiver requires before mapping.
inline constexpr unsigned kChannelMemfdRequired = seal::kShrink | seal::kGrow;

/// Creates an SPSC channel (capacity/max_message of `options`; mode is ignored: a memfd has no
/// name to open) in a memfd named "ipckit.chan:\<debug_name\>" (shown in /proc/PID/fd only), writes
/// its header and seals it. Never blocks. Errors: kInvalidArgument (sizes, debug_name), memfd_create /
/// posix_fallocate errno (ENOMEM/ENOSPC: memory cgroup), fcntl(F_ADD_SEALS).
[[nodiscard]] IPCKIT_API Result<Memfd> create_memfd_channel(std::string_view debug_name, const ChannelOptions& options = {},
                                                            std::uint64_t type_hash = 0);

/// Sends the channel's memfd over a connected UNIX socket (one byte of data, one descriptor).
/// Blocks like send_fds: kOk or kPeerClosed. Errors: as send_fds.
[[nodiscard]] IPCKIT_API Result<IoStatus> send_channel(int socket_fd, const Memfd& channel);

/// What receive_channel() brought: status kOk with the verified memfd, or kEndOfStream (the peer
/// closed) / kTimedOut (deadline) / kWouldBlock (non-blocking socket) with none.
struct ReceivedChannel {
  IoStatus status = IoStatus::kOk;  ///< kOk, kEndOfStream, kTimedOut or kWouldBlock
  Memfd memfd;                      ///< the verified channel memfd when status is kOk; empty otherwise
};

/// Receives a channel memfd and verifies it before anyone maps it: it is a memfd, carries
/// kChannelMemfdRequired seals and is at least the header's size (the exact size is checked
/// against the header by open_memfd). Waits until `deadline`. Errors: "invalid argument" (no
/// descriptor in the message / not a memfd), "corrupt" (a seal missing, too small: the text names
/// which), errors of receive_fds.
[[nodiscard]] IPCKIT_API Result<ReceivedChannel> receive_channel(int socket_fd, Deadline deadline = kNoDeadline);

}  // namespace ipckit
