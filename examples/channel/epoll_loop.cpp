// SPDX-License-Identifier: Apache-2.0
// One epoll loop waits on an ipckit channel, a timerfd and a signalfd: the channel's notification
// fd (SpscConsumer::native_handle) is an ordinary pollable descriptor.
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "ipckit/channel/spsc.hpp"
#include "ipckit/core/unique_fd.hpp"
#include "ipckit/signal/send.hpp"
#include "ipckit/signal/signal_fd.hpp"
#include "ipckit/signal/signal_mask.hpp"

namespace {
enum Tag : std::uint64_t { kChannel, kTimer, kSignal };

bool watch(int ep, int fd, Tag tag) {
  epoll_event e{};
  e.events = EPOLLIN;
  e.data.u64 = tag;
  return ::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) == 0;
}
}  // namespace

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // narration reaches a pipe line by line, never twice after fork
  const std::string name = "/ipckit-example-epoll-" + std::to_string(::getpid());
  constexpr int kMessages = 100;
  ipckit::ChannelOptions o;
  o.capacity = 1 << 16;
  o.max_message = 64;
  auto rx = ipckit::SpscConsumer::open(name, ipckit::OpenMode::kCreateExclusive, o);
  if (!rx) {
    std::fprintf(stderr, "%s\n", rx.error().str().c_str());
    return 1;
  }
  auto fd = rx->enable_notification();
  // SIGUSR1 arrives through a signalfd: block it before forking (the child inherits the mask).
  auto mask = ipckit::ScopedSignalMask::block(ipckit::SignalSet{SIGUSR1});
  auto sfd = ipckit::SignalFd::create(ipckit::SignalSet{SIGUSR1});
  ipckit::UniqueFd timer(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
  ipckit::UniqueFd ep(::epoll_create1(EPOLL_CLOEXEC));
  itimerspec every_10ms{{0, 10'000'000}, {0, 10'000'000}};
  if (!fd || !mask || !sfd || !timer.valid() || !ep.valid() ||
      ::timerfd_settime(timer.get(), 0, &every_10ms, nullptr) != 0 || !watch(ep.get(), *fd, kChannel) ||
      !watch(ep.get(), timer.get(), kTimer) || !watch(ep.get(), sfd->native_handle(), kSignal)) {
    std::fprintf(stderr, "setup failed\n");
    (void)ipckit::SpscChannel::unlink(name);
    return 1;
  }

  std::printf("[consumer %d] channel %s, a 10 ms timerfd and a signalfd for SIGUSR1 in one epoll set\n",
              static_cast<int>(::getpid()), name.c_str());
  const pid_t parent = ::getpid();
  const pid_t child = ::fork();
  if (child == 0) {
    // The producer: a burst, a pause (the consumer goes to sleep in epoll), the rest, a signal.
    auto tx = ipckit::SpscProducer::open(name, ipckit::OpenMode::kOpenExisting, o);
    if (!tx) ::_exit(2);
    for (int i = 0; i < kMessages; ++i) {
      const std::string text = "message " + std::to_string(i);
      // An error, or a status other than kOk (the consumer closed or died: nobody would read it).
      auto sent = tx->send(std::as_bytes(std::span(text)));
      if (!sent || *sent != ipckit::ChannelStatus::kOk) ::_exit(3);
      if (i == kMessages / 2) ::usleep(30'000);
    }
    (void)tx->close();
    ::_exit(ipckit::send_signal(parent, SIGUSR1) ? 0 : 4);
  }

  int received = 0;
  int wakes = 0;
  int ticks = 0;
  bool closed = false;
  bool signalled = false;
  while (!(closed && signalled)) {
    // Level-triggered contract: drain with try_receive until would-block, then arm, then wait.
    const int before = received;
    for (;;) {
      auto m = rx->try_receive();
      if (!m) {
        std::fprintf(stderr, "%s\n", m.error().str().c_str());
        break;
      }
      if (m->status == ipckit::ChannelStatus::kPeerClosed) closed = true;
      if (m->status != ipckit::ChannelStatus::kOk) break;
      ++received;
      (void)rx->release();
    }
    if (received > before) {
      std::printf("[consumer] drained %d message(s) (%d so far)%s\n", received - before, received,
                  closed ? "; the producer closed the channel" : "");
    }
    if (closed && signalled) break;
    auto armed = rx->arm();
    if (!armed) break;
    if (!*armed && !closed) continue;  // a record arrived meanwhile: drain again without waiting
    epoll_event ev[4];
    const int n = ::epoll_wait(ep.get(), ev, 4, 5000);
    if (n <= 0) break;  // 5 s without any event: give up (would be a bug)
    rx->disarm();
    ++wakes;
    for (int i = 0; i < n; ++i) {
      if (ev[i].data.u64 == kTimer) {
        std::uint64_t x = 0;
        if (::read(timer.get(), &x, sizeof x) == sizeof x) ticks += static_cast<int>(x);
      } else if (ev[i].data.u64 == kSignal) {
        auto info = sfd->try_read();
        signalled = signalled || (info && info->has_value());
        if (signalled) std::printf("[consumer] epoll: SIGUSR1 read from the signalfd\n");
      }
    }
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  (void)rx->close();
  (void)ipckit::SpscChannel::unlink(name);
  std::printf("[consumer] received %d messages, %d timer ticks, SIGUSR1 %s, producer %s; %d epoll wake-ups\n",
              received, ticks, signalled ? "seen" : "missing", closed ? "closed" : "open", wakes);
  return received == kMessages && signalled && closed && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
