// SPDX-License-Identifier: Apache-2.0
// HeldChild: a forked child that runs `setup` (creates or opens what it holds), reports ready, then
// holds it until the parent releases it (release(): closes the pipe) or kills it (kill()). No
// sleeps: a pipe each way. Used by the tests that need a live or a killed holder of an object.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <functional>

#include "ipckit/core/unique_fd.hpp"
#include "support/ipckit_test.hpp"

namespace ipckit::test {

class HeldChild {
 public:
  explicit HeldChild(const std::function<bool()>& setup) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return;
    pid_ = spawn_child([&] {
      ::close(fds[1]);
      if (!setup()) return 3;
      ready_.signal();
      char c;
      while (::read(fds[0], &c, 1) < 0 && errno == EINTR) {
      }
      return 0;
    });
    ::close(fds[0]);
    release_ = UniqueFd(fds[1]);
    ready_.close_write();
    ok_ = ready_.wait(deadline_after(std::chrono::seconds(20)));
  }
  ~HeldChild() {
    if (pid_ > 0) kill();
  }
  HeldChild(const HeldChild&) = delete;
  HeldChild& operator=(const HeldChild&) = delete;

  // True once the child's setup succeeded and it reported ready.
  [[nodiscard]] bool ok() const { return ok_; }
  [[nodiscard]] pid_t pid() const { return pid_; }
  void kill() {
    ::kill(pid_, SIGKILL);
    (void)wait_child(pid_);
    pid_ = -1;
  }
  // Lets the child exit normally and reaps it.
  ChildResult release() {
    release_.reset();
    auto r = wait_child(pid_);
    pid_ = -1;
    return r;
  }

 private:
  ReadyPipe ready_;
  UniqueFd release_;
  pid_t pid_ = -1;
  bool ok_ = false;
};

}  // namespace ipckit::test
