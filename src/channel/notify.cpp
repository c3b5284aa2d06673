// SPDX-License-Identifier: Apache-2.0
#include "ipckit/channel/notify.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "ipckit/channel/detail.hpp"
#include "ipckit/core/eintr.hpp"
#include "ipckit/message/fd_passing.hpp"
#include "segment.hpp"

namespace ipckit::detail {
namespace cl = channel_layout;

namespace {

constexpr std::size_t kMaxAbstract = sizeof(sockaddr_un{}.sun_path) - 1;  // leading NUL

std::uint64_t fnv1a(std::string_view s) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

socklen_t abstract_address(const std::string& name, sockaddr_un& addr) noexcept {
  std::memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path + 1, name.data(), name.size());
  return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
}

}  // namespace

std::string control_socket_name(const ChannelMap& map, std::uint64_t consumer_claim) {
  std::string_view n = map.name;
  if (!n.empty() && n.front() == '/') n.remove_prefix(1);
  // The creator's start time and the creation time tell apart channels of the same name over time
  // (and memfd channels, whose names need not be unique); the claim tells consumers apart.
  const std::uint64_t start = map.header->imm.creator.start_time;
  const std::uint64_t created = map.header->imm.created_unix_ns;
  std::string s = fmt::format("ipckit.chan.{}.{}.{:x}.{:x}", n, start, created, consumer_claim);
  // Long channel names: a hash keeps the name within sun_path (collisions also need equal start
  // time and claim).
  if (s.size() > kMaxAbstract) s = fmt::format("ipckit.chan.#{:016x}.{}.{:x}.{:x}", fnv1a(n), start, created, consumer_claim);
  return s;
}

// ------------------------------------------------------------------------------------------------
// NotifySender

void NotifySender::reset() noexcept {
  eventfd_.reset();
  eventfd_claim_ = 0;
  control_.reset();
  control_claim_ = 0;
}

bool NotifySender::notify(ChannelMap& map) noexcept {
  cl::Header* h = map.header;
  // One notification per arming: the consumer re-arms after draining. acq_rel: the exchange is an
  // RMW on `armed`, ordered after our fence (see wake_consumer()).
  if (aref(h->wait.armed).exchange(0, std::memory_order_acq_rel) == 0) return false;
  // acquire: pairs with the release store of `published` in claim_role(); the claim names the
  // consumer whose eventfd we need.
  const std::uint64_t claim = aref(h->consumer.published).load(std::memory_order_acquire);
  if (claim == 0) {
    reset();
    return false;
  }
  if (eventfd_.valid() && eventfd_claim_ == claim) {
    const std::uint64_t one = 1;
    // EAGAIN (counter saturated) still leaves it readable; anything else is dropped (see above).
    [[maybe_unused]] const ssize_t w = ::write(eventfd_.get(), &one, sizeof one);
    return true;
  }
  // A new (or first) consumer: its predecessor's eventfd is dropped.
  eventfd_.reset();
  if (!control_.valid() || control_claim_ != claim) {
    control_.reset();
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return true;
    UniqueFd sock(fd);
    sockaddr_un addr{};
    const socklen_t len = abstract_address(control_socket_name(map, claim), addr);
    const int rc = no_eintr(::connect, sock.get(), reinterpret_cast<const sockaddr*>(&addr), len);
    // A UNIX stream connect completes at once (queued in the listener's backlog) or fails
    // (ECONNREFUSED: no such consumer socket; EAGAIN: backlog full). The queued connection makes
    // the listener readable, which wakes the consumer: it is this arming's notification.
    if (rc != 0) return true;
    control_ = std::move(sock);
    control_claim_ = claim;
  }
  std::array<std::byte, 8> buf{};
  auto m = try_receive_fds(control_.get(), buf, 1);
  if (!m || m->status == IoStatus::kEndOfStream) {
    control_.reset();  // the consumer closed it without an fd (refused, or it is gone)
    return true;
  }
  if (m->status != IoStatus::kOk || m->fds.size() != 1) return true;  // not served yet: the pending connection wakes it
  eventfd_ = std::move(m->fds[0]);
  eventfd_claim_ = claim;
  control_.reset();
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t w = ::write(eventfd_.get(), &one, sizeof one);
  return true;
}

// ------------------------------------------------------------------------------------------------
// NotifyReceiver

void NotifyReceiver::reset() noexcept {
  epoll_.reset();
  timer_.reset();
  listener_.reset();
  eventfd_ = EventFd{};
}

Result<void> NotifyReceiver::enable(const ChannelMap& map, std::uint64_t consumer_claim,
                                    std::chrono::milliseconds liveness_interval) {
  auto ev = EventFd::create();
  if (!ev) return fail(ev.error());
  const std::string sock_name = control_socket_name(map, consumer_claim);
  const int ls = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (ls < 0) return last_errno().fail("socket", quoted(map.name));
  UniqueFd listener(ls);
  sockaddr_un addr{};
  const socklen_t len = abstract_address(sock_name, addr);
  if (::bind(listener.get(), reinterpret_cast<const sockaddr*>(&addr), len) != 0) {
    const int err = errno;
    return fail_errno(err, "bind", quoted("@" + sock_name),
                      err == EADDRINUSE ? "another endpoint of this consumer already asked for a notification fd"
                                        : "");
  }
  if (::listen(listener.get(), 16) != 0) return last_errno().fail("listen", quoted("@" + sock_name));
  const int tfd = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (tfd < 0) return last_errno().fail("timerfd_create", quoted(map.name));
  UniqueFd timer(tfd);
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::max(liveness_interval, std::chrono::milliseconds(1)))
                      .count();
  itimerspec spec{};
  spec.it_interval.tv_sec = static_cast<time_t>(ns / 1000000000);
  spec.it_interval.tv_nsec = static_cast<long>(ns % 1000000000);
  spec.it_value = spec.it_interval;
  if (::timerfd_settime(timer.get(), 0, &spec, nullptr) != 0) return last_errno().fail("timerfd_settime", quoted(map.name));
  const int efd = ::epoll_create1(EPOLL_CLOEXEC);
  if (efd < 0) return last_errno().fail("epoll_create1", quoted(map.name));
  UniqueFd ep(efd);
  for (const int fd : {ev->native_handle(), listener.get(), timer.get()}) {
    epoll_event e{};
    e.events = EPOLLIN;
    e.data.fd = fd;
    if (::epoll_ctl(ep.get(), EPOLL_CTL_ADD, fd, &e) != 0) return last_errno().fail("epoll_ctl", quoted(map.name));
  }
  eventfd_ = std::move(*ev);
  listener_ = std::move(listener);
  timer_ = std::move(timer);
  epoll_ = std::move(ep);
  return {};
}

void NotifyReceiver::service() noexcept {
  if (!epoll_.valid()) return;
  std::array<epoll_event, 4> events{};
  // One syscall finds what is ready; only those are read.
  const int n = ::epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()), 0);
  for (int i = 0; i < n; ++i) {
    const int fd = events[static_cast<std::size_t>(i)].data.fd;
    if (fd == eventfd_.native_handle()) {
      (void)eventfd_.try_read();
    } else if (fd == timer_.get()) {
      std::uint64_t expirations = 0;
      [[maybe_unused]] const ssize_t r = ::read(timer_.get(), &expirations, sizeof expirations);
    } else if (fd == listener_.get()) {
      for (;;) {
        const int c = no_eintr(::accept4, listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) {
          if (errno == ECONNABORTED) continue;  // that client gave up: take the next one
          break;
        }
        UniqueFd conn(c);
        // Abstract sockets have no file mode: only our uid (or root) gets the eventfd.
        auto cred = peer_credentials(conn.get());
        if (!cred || (cred->uid != ::geteuid() && cred->uid != 0)) continue;
        const std::array<std::byte, 1> tag{std::byte{'e'}};
        const std::array<int, 1> fds{eventfd_.native_handle()};
        // A fresh connection's buffer is empty: this never waits.
        (void)try_send_fds(conn.get(), tag, fds);
      }
    }
  }
}

}  // namespace ipckit::detail
