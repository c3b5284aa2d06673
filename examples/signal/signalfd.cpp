// SPDX-License-Identifier: Apache-2.0
// Signals as data: block a real-time signal, read it (with its payload) from a signalfd.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "ipckit/signal/send.hpp"
#include "ipckit/signal/signal_fd.hpp"
#include "ipckit/signal/signal_mask.hpp"

using namespace std::chrono_literals;

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // narration reaches a pipe line by line, never twice after fork
  auto sig = ipckit::realtime_signal(1);
  if (!sig) return 1;
  // Block first (before fork, so the child inherits nothing unblocked to race with), then read.
  auto mask = ipckit::ScopedSignalMask::block(ipckit::SignalSet{*sig});
  auto sfd = ipckit::SignalFd::create(ipckit::SignalSet{*sig});
  if (!mask || !sfd) {
    std::fprintf(stderr, "%s\n", (!mask ? mask.error() : sfd.error()).str().c_str());
    return 1;
  }
  std::printf("[parent] blocked %s (a real-time signal) and opened a signalfd for it\n",
              ipckit::signal_name(*sig).c_str());
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    for (int i = 1; i <= 3; ++i) (void)ipckit::queue_signal(parent, *sig, i * 100);  // real-time: all 3 queue
    std::printf("[child %d] sigqueue() three times with payloads 100, 200, 300\n", static_cast<int>(::getpid()));
    std::fflush(stdout);
    ::_exit(0);
  }
  int sum = 0;
  for (int i = 0; i < 3; ++i) {
    auto info = sfd->read_for(5s);  // sfd->native_handle() works with poll/epoll
    if (!info || !info->has_value()) return 1;
    std::printf("[parent] read from the signalfd: %s from pid %d, payload %d\n", ipckit::signal_name((*info)->signo).c_str(),
                static_cast<int>((*info)->sender_pid), (*info)->int_value);
    sum += (*info)->int_value;
  }
  ::waitpid(pid, nullptr, 0);
  return sum == 600 ? 0 : 1;
}
