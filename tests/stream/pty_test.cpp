// SPDX-License-Identifier: Apache-2.0
#include "ipckit/stream/pty.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include <gtest/gtest.h>

#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

using namespace std::chrono_literals;

void print_tty_state(const char* tag) {
  winsize ws{};
  const int ok = ::ioctl(0, TIOCGWINSZ, &ws);
  // /dev/tty opens only for a process that has a controlling terminal.
  const int tty = ::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  std::printf("%s isatty=%d%d%d ctty=%d rows=%d cols=%d sid_is_me=%d\n", tag, ::isatty(0), ::isatty(1), ::isatty(2),
              tty >= 0, ok == 0 ? ws.ws_row : -1, ok == 0 ? ws.ws_col : -1, ::getsid(0) == ::getpid());
  std::fflush(stdout);
  if (tty >= 0) ::close(tty);
}

// Reports whether its stdio is a terminal, whether it has a controlling terminal, the window size.
IPCKIT_TEST_HELPER(tty_report) {
  print_tty_state("report");
  return 0;
}

// Reports the size, then waits for SIGWINCH and reports the new size.
IPCKIT_TEST_HELPER(tty_winch) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGWINCH);
  ::sigprocmask(SIG_BLOCK, &set, nullptr);
  print_tty_state("before");
  int sig = 0;
  if (::sigwait(&set, &sig) != 0) return 2;
  print_tty_state("after");
  return 0;
}

// Reads one line from the terminal and prints it back tagged.
IPCKIT_TEST_HELPER(tty_line) {
  char line[256];
  if (std::fgets(line, sizeof line, stdin) == nullptr) return 2;
  std::printf("got:%s", line);
  return 0;
}

std::vector<std::string> helper(const std::string& name) { return {test::self_exe(), "--ipckit-helper", name}; }

// Reads from the master until `needle` appears (or end of stream / 10 s).
std::string read_until(Pty& pty, const std::string& needle) {
  std::string out;
  char chunk[512];
  const Deadline deadline = deadline_after(10s);
  while (out.find(needle) == std::string::npos) {
    auto r = pty.read_some_until(std::as_writable_bytes(std::span<char>(chunk)), deadline);
    if (!r || r->status != IoStatus::kOk) break;
    out.append(chunk, r->bytes);
  }
  return out;
}

TEST(Pty, OpenGivesAPtsSlaveAndWindowSizeRoundTrips) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(Pty pty, Pty::open());
  EXPECT_EQ(pty.slave_path().rfind("/dev/pts/", 0), 0u) << pty.slave_path();
  IPCKIT_ASSERT_OK(pty.set_window_size({40, 120}));
  IPCKIT_ASSERT_OK_AND_ASSIGN(WindowSize ws, pty.window_size());
  EXPECT_EQ(ws.rows, 40);
  EXPECT_EQ(ws.cols, 120);
  IPCKIT_ASSERT_OK_AND_ASSIGN(UniqueFd slave, pty.open_slave());
  EXPECT_EQ(::isatty(slave.get()), 1);
  EXPECT_NE(::fcntl(pty.native_handle(), F_GETFD) & FD_CLOEXEC, 0);
}

TEST(Pty, ChildSeesATerminalAsControllingTtyWithTheWindowSize) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(PtyProcess p, spawn_on_pty(helper("tty_report"), {33, 101}));
  // The child's exit closes the last slave descriptor: the master reads EIO = end of stream.
  IPCKIT_ASSERT_OK_AND_ASSIGN(std::string out, p.pty.read_to_end());
  EXPECT_NE(out.find("report isatty=111 ctty=1 rows=33 cols=101 sid_is_me=1\r\n"), std::string::npos) << out;
  IPCKIT_ASSERT_OK_AND_ASSIGN(ExitStatus s, p.process.wait());
  EXPECT_TRUE(s.success()) << s.describe();
}

TEST(Pty, ResizingDeliversSigwinchAndTheNewSize) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(PtyProcess p, spawn_on_pty(helper("tty_winch"), {24, 80}));
  const std::string before = read_until(p.pty, "\r\n");
  EXPECT_NE(before.find("before isatty=111 ctty=1 rows=24 cols=80"), std::string::npos) << before;
  IPCKIT_ASSERT_OK(p.pty.set_window_size({50, 132}));
  IPCKIT_ASSERT_OK_AND_ASSIGN(std::string after, p.pty.read_to_end());
  EXPECT_NE(after.find("after isatty=111 ctty=1 rows=50 cols=132"), std::string::npos) << after;
  IPCKIT_ASSERT_OK_AND_ASSIGN(ExitStatus s, p.process.wait());
  EXPECT_TRUE(s.success()) << s.describe();
}

TEST(Pty, InputTypedOnTheMasterReachesTheChild) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(PtyProcess p, spawn_on_pty(helper("tty_line")));
  IPCKIT_ASSERT_OK(p.pty.write_all("typed line\n"));
  IPCKIT_ASSERT_OK_AND_ASSIGN(std::string out, p.pty.read_to_end());
  // Cooked mode: the terminal echoes the input, and the child's "\n" arrives as "\r\n".
  EXPECT_NE(out.find("typed line\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("got:typed line\r\n"), std::string::npos) << out;
  IPCKIT_ASSERT_OK_AND_ASSIGN(ExitStatus s, p.process.wait());
  EXPECT_TRUE(s.success()) << s.describe();
}

TEST(Pty, MissingProgramFailsNamingIt) {
  const std::string missing = test::unique_path() + "/no-such-shell";
  EXPECT_TRUE(test::FailsWith(spawn_on_pty({missing}), {"execve(\"" + missing + "\")", "ENOENT"}));
}

}  // namespace
}  // namespace ipckit
