// SPDX-License-Identifier: Apache-2.0
// Shared helpers for ipckit's tests: unique names, child processes, privileges, handshakes.
//
// Rules: every IPC name comes from unique_name()/unique_path() so runs never
// collide and the leak audit can attribute leftovers; never sleep to wait for readiness (use
// ReadyPipe); timing asserts are lower bounds only.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "ipckit/core/deadline.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/core/unique_fd.hpp"

namespace ipckit::test {

// Prefix of every object a test creates: /dev/shm/ipckit.test.*, mq /ipckit.test.*, /tmp/ipckit.test.*.
inline constexpr std::string_view kTestPrefix = "ipckit.test.";

// "/ipckit.test.<pid>.<random64 hex>.<n>" — a POSIX IPC name unique across runs and processes.
std::string unique_name();
// "/tmp/ipckit.test.<pid>.<random64 hex>.<n>" — a filesystem path (FIFO, socket, file); not created.
std::string unique_path();
// "@ipckit.test.<pid>.<random>.<n>" for abstract UNIX sockets.
std::string unique_abstract_name();

// A directory under /tmp with the test prefix, removed recursively on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

// IPCKIT_TEST_SCALE (1 by default; 0.1 under sanitizers) times n, at least 1.
double test_scale();
std::size_t scaled(std::size_t n);

// How a child process ended.
struct ChildResult {
  bool exited = false;
  int code = -1;    // exit status when exited
  int signal = 0;   // terminating signal when !exited
  [[nodiscard]] bool ok() const { return exited && code == 0; }
  [[nodiscard]] std::string describe() const;  // "exited 0", "killed by SIGSEGV"
};

// Forks; the child runs `body` and _exit()s with its return value (exceptions and gtest failures in
// the child become exit code 99/98). The parent waits and returns how the child ended.
ChildResult run_in_child(const std::function<int()>& body);
// Like run_in_child, but the child first restores SIGSEGV/SIGBUS to their default action (sanitizers
// install handlers that would turn the expected crash into a report and exit code): for tests that
// expect the child to die of SIGSEGV (writes to read-only mappings).
ChildResult run_in_child_expecting_crash(const std::function<int()>& body);
// Forks and returns the child's pid without waiting (the child _exit()s with body's return value).
pid_t spawn_child(const std::function<int()>& body);
// waitpid() with EINTR retried.
ChildResult wait_child(pid_t pid);

// Reruns this test binary as `<self> --ipckit-helper NAME ARGS...` (leveldb's way to test exec).
// Returns the child's pid; the helper is registered with IPCKIT_TEST_HELPER(NAME).
pid_t spawn_helper(std::string_view name, const std::vector<std::string>& args, int stdin_fd = -1,
                   int stdout_fd = -1);
std::string self_exe();

using HelperFn = int (*)(const std::vector<std::string>& args);
std::map<std::string, HelperFn>& helper_registry();
struct HelperRegistration {
  HelperRegistration(const char* name, HelperFn fn) { helper_registry()[name] = fn; }
};
#define IPCKIT_TEST_HELPER(name)                                                              \
  static int ipckit_helper_##name(const std::vector<std::string>& args);                      \
  static ::ipckit::test::HelperRegistration ipckit_helper_reg_##name(#name, ipckit_helper_##name); \
  static int ipckit_helper_##name([[maybe_unused]] const std::vector<std::string>& args)

// Privileges.
bool is_root();
// Whether this process has `cap` in its effective set (linux/capability.h numbers).
bool has_capability(int cap);
// Drops `cap` from the effective, permitted and bounding sets of this process (call in a child).
// Returns false with errno set on failure.
bool drop_capability(int cap);

// Forks a child that enters a private mount namespace (unshare(CLONE_NEWNS), then makes "/"
// recursively private so nothing mounted reaches the host) and runs `body`. Requires root: callers
// GTEST_SKIP() first when !is_root().
ChildResult run_in_private_mount_ns(const std::function<int()>& body);

// A one-byte handshake between processes: the child signal()s when ready, the parent wait()s.
class ReadyPipe {
 public:
  ReadyPipe();
  void signal();                     // write one byte (call in the ready side)
  bool wait(Deadline deadline);      // true if the byte arrived before the deadline
  [[nodiscard]] int read_fd() const { return read_.get(); }
  [[nodiscard]] int write_fd() const { return write_.get(); }
  void close_read() { read_.reset(); }
  void close_write() { write_.reset(); }

 private:
  UniqueFd read_;
  UniqueFd write_;
};

// Error text checks: the Result failed and its str() contains every needle.
template <class T>
::testing::AssertionResult FailsWith(const Result<T>& r, std::initializer_list<std::string_view> needles) {
  if (r) return ::testing::AssertionFailure() << "expected an error, got success";
  const std::string text = r.error().str();
  for (auto n : needles) {
    if (text.find(n) == std::string::npos) {
      return ::testing::AssertionFailure() << "error text \"" << text << "\" lacks \"" << n << "\"";
    }
  }
  return ::testing::AssertionSuccess() << text;
}

// ASSERT that a Result holds a value (printing the Error otherwise) and move it into `lhs`:
//   IPCKIT_ASSERT_OK_AND_ASSIGN(auto fd, open_something());
#define IPCKIT_TEST_CONCAT_INNER(a, b) a##b
#define IPCKIT_TEST_CONCAT(a, b) IPCKIT_TEST_CONCAT_INNER(a, b)
#define IPCKIT_ASSERT_OK_AND_ASSIGN(lhs, expr) \
  IPCKIT_ASSERT_OK_AND_ASSIGN_IMPL(IPCKIT_TEST_CONCAT(ipckit_result_, __LINE__), lhs, expr)
#define IPCKIT_ASSERT_OK_AND_ASSIGN_IMPL(tmp, lhs, expr)                 \
  auto tmp = (expr);                                                    \
  ASSERT_TRUE(tmp.has_value()) << #expr << ": " << tmp.error().str(); \
  lhs = std::move(*tmp)
// ASSERT/EXPECT that a Result (of any T, void included) holds a value, printing the Error otherwise.
#define IPCKIT_ASSERT_OK(expr)                                                      \
  do {                                                                              \
    auto&& ipckit_r_ = (expr);                                                      \
    ASSERT_TRUE(ipckit_r_.has_value()) << #expr << ": " << ipckit_r_.error().str(); \
  } while (0)
#define IPCKIT_EXPECT_OK(expr)                                                      \
  do {                                                                              \
    auto&& ipckit_r_ = (expr);                                                      \
    EXPECT_TRUE(ipckit_r_.has_value()) << #expr << ": " << ipckit_r_.error().str(); \
  } while (0)

// A loopback port (IPv4) that was free a moment ago: bind port 0, read it back, close. For start
// orders in which the receiver is not up yet when the sender needs the address. `type` is
// SOCK_STREAM or SOCK_DGRAM.
std::uint16_t free_loopback_port(int type);

// Open file descriptors of this process (from /proc/self/fd), excluding the one used to list them.
std::vector<int> open_fds();

// True when built with ASan/TSan (some tests skip syscall traps or signal games under them).
bool under_sanitizer();

}  // namespace ipckit::test
