// SPDX-License-Identifier: Apache-2.0
// Runs ipckit (and socat, nc) as real processes for the CLI tests: stdin from a string, stdout and
// stderr captured, and an optional --ready-fd handshake on fd 3 (never a sleep).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "ipckit/core/deadline.hpp"
#include "ipckit/endpoint/endpoint.hpp"
#include "support/ipckit_test.hpp"

namespace ipckit::test {

inline std::string ipckit_binary() { return std::string(IPCKIT_TEST_BINARY_DIR) + "/ipckit"; }

// The fd number a child sees its ready pipe as ("--ready-fd 3").
inline constexpr int kChildReadyFd = 3;

struct CliRun {
  ChildResult result;
  std::string out;
  std::string err;
};

inline std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

class CliProcess {
 public:
  // Starts argv[0] (a path) with `input` on stdin. With `ready`, the child's fd 3 is the write end of
  // a pipe the test waits on with wait_ready().
  CliProcess(std::vector<std::string> argv, std::string_view input, bool ready = false) : argv_(std::move(argv)) {
    in_ = dir_.file("in");
    out_ = dir_.file("out");
    err_ = dir_.file("err");
    {
      std::ofstream f(in_, std::ios::binary);
      f.write(input.data(), static_cast<std::streamsize>(input.size()));
    }
    std::vector<char*> args;
    for (auto& a : argv_) args.push_back(a.data());
    args.push_back(nullptr);
    const int ready_w = ready ? ready_.write_fd() : -1;
    pid_ = ::fork();
    if (pid_ == 0) {
      // Only async-signal-safe calls between fork and exec: the parent has threads.
      const int in = ::open(in_.c_str(), O_RDONLY);
      const int out = ::open(out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      const int err = ::open(err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (in < 0 || out < 0 || err < 0) ::_exit(126);
      if (ready_w >= 0) {
        if (ready_w == kChildReadyFd) {
          ::fcntl(kChildReadyFd, F_SETFD, 0);
        } else if (::dup2(ready_w, kChildReadyFd) < 0) {
          ::_exit(126);
        }
      }
      if (::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) ::_exit(126);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    ready_.close_write();
  }
  ~CliProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      (void)wait_child(pid_);
    }
  }
  CliProcess(const CliProcess&) = delete;
  CliProcess& operator=(const CliProcess&) = delete;

  // True once the child wrote its ready byte (false: it exited or the deadline passed first).
  bool wait_ready(Deadline deadline = deadline_after(std::chrono::seconds(20))) { return ready_.wait(deadline); }

  void kill(int sig) const { ::kill(pid_, sig); }
  // What the child wrote to stderr so far (read it after a handshake, e.g. wait_ready()).
  [[nodiscard]] std::string err_so_far() const { return slurp(err_); }
  [[nodiscard]] pid_t pid() const { return pid_; }

  CliRun finish() {
    CliRun r;
    r.result = wait_child(pid_);
    pid_ = -1;
    r.out = slurp(out_);
    r.err = slurp(err_);
    return r;
  }

 private:
  std::vector<std::string> argv_;
  TempDir dir_;
  std::string in_, out_, err_;
  ReadyPipe ready_;
  pid_t pid_ = -1;
};

// ipckit ARGS with `input` on stdin, to the end.
inline CliRun run_ipckit(std::vector<std::string> args, std::string_view input = {}) {
  args.insert(args.begin(), ipckit_binary());
  CliProcess p(std::move(args), input);
  return p.finish();
}

// Starts `ipckit ARGS --ready-fd 3`.
inline std::vector<std::string> ipckit_args(std::vector<std::string> args, bool ready) {
  args.insert(args.begin(), ipckit_binary());
  if (ready) {
    args.push_back("--ready-fd");
    args.push_back(std::to_string(kChildReadyFd));
  }
  return args;
}

inline std::size_t count_lines(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += c == '\n' ? 1 : 0;
  return n;
}

}  // namespace ipckit::test
