// SPDX-License-Identifier: Apache-2.0
// Epoll integration of a channel (layout 1.1): the consumer's notification fd and the producer's
// side of it. See docs/channel.md "Epoll integration".
//
// The consumer owns an eventfd and a small control socket, an abstract UNIX stream socket named
// `@ipckit.chan.<name>.<creator start time>.<creation ns>.<consumer claim>` (abstract: nothing to clean up on
// disk, gone with its last descriptor; peers are checked with SO_PEERCRED). A producer that finds
// the consumer `armed` and has no eventfd for this consumer connects to that socket; the pending
// connection wakes the consumer, which accepts it and hands its eventfd over with SCM_RIGHTS
// (message layer send_fds). From then on the producer writes the eventfd, and only when the
// consumer is armed.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "ipckit/core/result.hpp"
#include "ipckit/core/unique_fd.hpp"
#include "ipckit/export.hpp"
#include "ipckit/sync/eventfd.hpp"

namespace ipckit::detail {

struct ChannelMap;

// The abstract socket name (without the leading NUL) of the consumer holding `consumer_claim`.
[[nodiscard]] IPCKIT_API std::string control_socket_name(const ChannelMap& map, std::uint64_t consumer_claim);

// Producer side. Not thread-safe (one per producer endpoint).
class IPCKIT_API NotifySender {
 public:
  // Called by the producer after its seq_cst fence found `armed` set (wake_consumer()). Clears
  // `armed` (one notification per arming) and writes the consumer's eventfd; fetches the eventfd
  // first when it has none for this consumer (whose pending connection alone wakes the consumer).
  // Never blocks (non-blocking connect and receive); failures are dropped: the consumer's
  // liveness timer bounds the wait to liveness_interval. Returns true when it made a syscall.
  bool notify(ChannelMap& map) noexcept;
  // Drops the eventfd and any pending control connection.
  void reset() noexcept;
  // Whether an eventfd of the current consumer is held (tests).
  [[nodiscard]] bool has_eventfd() const noexcept { return eventfd_.valid(); }

 private:
  UniqueFd eventfd_;
  std::uint64_t eventfd_claim_ = 0;
  UniqueFd control_;
  std::uint64_t control_claim_ = 0;
};

// Consumer side: an epoll set of the eventfd, the control listener and a periodic timerfd (every
// liveness_interval: a producer that died between publishing and notifying, or a lost control
// connection, costs at most one interval). Its epoll fd is the consumer's native_handle().
class IPCKIT_API NotifyReceiver {
 public:
  // Creates the eventfd, binds and listens on the control socket, arms the timer. Errors: errno of
  // eventfd/socket/bind (EADDRINUSE names the socket)/listen/timerfd_create/epoll_create1.
  [[nodiscard]] Result<void> enable(const ChannelMap& map, std::uint64_t consumer_claim,
                                    std::chrono::milliseconds liveness_interval);
  [[nodiscard]] bool enabled() const noexcept { return epoll_.valid(); }
  [[nodiscard]] int handle() const noexcept { return epoll_.get(); }
  // Non-blocking: consumes what woke us (eventfd count, timer expirations) and hands the eventfd
  // to every producer waiting on the control socket (same uid or root only).
  void service() noexcept;
  void reset() noexcept;

 private:
  EventFd eventfd_;
  UniqueFd listener_;
  UniqueFd timer_;
  UniqueFd epoll_;
};

}  // namespace ipckit::detail
