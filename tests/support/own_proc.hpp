// SPDX-License-Identifier: Apache-2.0
// Tests of the inventory need a /proc whose every process they can inspect: on a shared machine
// (or a sandbox whose pid 1 hides its maps) one unreadable process makes every holder-based state
// `unknown`, by design. run_with_own_proc() runs `body` in a new pid namespace with its own /proc
// (a private mount namespace first, so nothing reaches the host). The
// objects stay the host's: only the processes the test starts are visible. Needs root: callers
// GTEST_SKIP() first when !test::is_root().
#pragma once

#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <functional>

#include "support/ipckit_test.hpp"

namespace ipckit::test {

// Exit codes 80-84: a step of the namespace setup failed; otherwise body's (gtest failures: 98).
inline ChildResult run_with_own_proc(const std::function<int()>& body) {
  return run_in_child([&] {
    if (::unshare(CLONE_NEWPID | CLONE_NEWNS) != 0) return 80;
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return 81;
    // The first child is the namespace's init; it mounts the new /proc and runs the body in a
    // child of its own (run_in_child turns gtest failures into an exit code).
    const pid_t init = ::fork();
    if (init < 0) return 82;
    if (init == 0) {
      if (::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) ::_exit(83);
      const ChildResult r = run_in_child(body);
      ::_exit(r.exited ? r.code : 84);
    }
    const ChildResult r = wait_child(init);
    return r.exited ? r.code : 84;
  });
}

// The skeleton of a root-only test: skips without root, runs `body` (gtest assertions allowed) in
// its own pid namespace and /proc, and fails the test when the body failed there.
inline void expect_in_own_proc(const std::function<void()>& body) {
  if (!is_root()) GTEST_SKIP() << "needs root: runs in its own pid namespace with its own /proc";
  const ChildResult r = run_with_own_proc([&] {
    body();
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

}  // namespace ipckit::test
