// SPDX-License-Identifier: Apache-2.0
#include "ipckit/stream/subprocess.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

using namespace std::chrono_literals;

// Prints the child's open descriptors, one per line (the directory stream's own fd excluded).
IPCKIT_TEST_HELPER(list_fds) {
  DIR* d = ::opendir("/proc/self/fd");
  if (d == nullptr) return 2;
  const int own = ::dirfd(d);
  std::string out;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    if (std::atoi(e->d_name) == own) continue;
    out += e->d_name;
    out += '\n';
  }
  ::closedir(d);
  std::fputs(out.c_str(), stdout);
  return 0;
}

std::vector<std::string> helper(const std::string& name, std::vector<std::string> args = {}) {
  std::vector<std::string> argv{test::self_exe(), "--ipckit-helper", name};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

TEST(Subprocess, RunCapturesStdoutAndExitCode) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(CommandOutput r, Subprocess::run(Subprocess::shell("echo hi; exit 3")));
  EXPECT_EQ(r.out, "hi\n");
  EXPECT_TRUE(r.status.exited);
  EXPECT_EQ(r.status.code, 3);
  EXPECT_EQ(r.status.describe(), "exited 3");
}

TEST(Subprocess, ArgvIsPassedVerbatimWithoutAShell) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(CommandOutput r, Subprocess::run({"printf", "%s|", "a b", "$HOME", "*", "'q'"}));
  EXPECT_EQ(r.out, "a b|$HOME|*|'q'|");
  EXPECT_TRUE(r.status.success());
}

TEST(Subprocess, AllThreeStreamsConnectedToPipes) {
  SubprocessOptions o;
  o.in = Stdio::pipe();
  o.out = Stdio::pipe();
  o.err = Stdio::pipe();
  IPCKIT_ASSERT_OK_AND_ASSIGN(Subprocess p, Subprocess::spawn(Subprocess::shell("tr a-z A-Z; echo oops >&2; exit 7"), o));
  ASSERT_NE(p.in(), nullptr);
  ASSERT_NE(p.out(), nullptr);
  ASSERT_NE(p.err(), nullptr);
  IPCKIT_ASSERT_OK(p.in()->write_all("shout\n"));
  (void)p.in()->close();
  IPCKIT_ASSERT_OK_AND_ASSIGN(std::string out, p.out()->read_to_end());
  IPCKIT_ASSERT_OK_AND_ASSIGN(std::string err, p.err()->read_to_end());
  EXPECT_EQ(out, "SHOUT\n");
  EXPECT_EQ(err, "oops\n");
  IPCKIT_ASSERT_OK_AND_ASSIGN(ExitStatus s, p.wait());
  EXPECT_EQ(s.code, 7);
}

TEST(Subprocess, StderrToStdoutAndEnvironmentAndCwd) {
  test::TempDir dir;
  SubprocessOptions o;
  o.stderr_to_stdout = true;
  o.env = std::vector<std::string>{"IPCKIT_GREETING=hello", "PATH=/usr/bin:/bin"};
  o.cwd = dir.path();
  IPCKIT_ASSERT_OK_AND_ASSIGN(CommandOutput r,
                              Subprocess::run(Subprocess::shell("echo $IPCKIT_GREETING >&2; pwd"), {}, o));
  EXPECT_EQ(r.out, "hello\n" + dir.path() + "\n");
}

TEST(Subprocess, RunInterleavesLargeInputAndOutput) {
  std::string input(test::scaled(2) << 20, '\0');
  for (std::size_t i = 0; i < input.size(); ++i) input[i] = static_cast<char>('a' + i % 23);
  IPCKIT_ASSERT_OK_AND_ASSIGN(CommandOutput r, Subprocess::run({"cat"}, input));
  EXPECT_TRUE(r.status.success());
  EXPECT_TRUE(r.out == input) << "got " << r.out.size() << " of " << input.size() << " bytes";
}

TEST(Subprocess, PopenLikeReadAndWrite) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(Subprocess reader, Subprocess::open_read({"echo", "from the child"}));
  IPCKIT_ASSERT_OK_AND_ASSIGN(std::string got, reader.out()->read_to_end());
  EXPECT_EQ(got, "from the child\n");
  IPCKIT_ASSERT_OK_AND_ASSIGN(ExitStatus rs, reader.wait());
  EXPECT_TRUE(rs.success());

  test::TempDir dir;
  const std::string file = dir.file("out.txt");
  IPCKIT_ASSERT_OK_AND_ASSIGN(Subprocess writer, Subprocess::open_write(Subprocess::shell("cat > '" + file + "'")));
  IPCKIT_ASSERT_OK(writer.in()->write_all("to the child\n"));
  IPCKIT_ASSERT_OK_AND_ASSIGN(ExitStatus ws, writer.wait());  // closes stdin: tee sees end of stream
  EXPECT_TRUE(ws.success());
  std::ifstream in(file);
  std::stringstream content;
  content << in.rdbuf();
  EXPECT_EQ(content.str(), "to the child\n");
}

TEST(Subprocess, MissingProgramsNameTheCallAndTheProgram) {
  EXPECT_TRUE(test::FailsWith(Subprocess::spawn({"ipckit-no-such-program"}),
                              {"execvp(\"ipckit-no-such-program\")", "ENOENT", "not found in PATH"}));
  const std::string missing = test::unique_path() + "/prog";
  EXPECT_TRUE(test::FailsWith(Subprocess::spawn({missing}), {"execve(\"" + missing + "\")", "ENOENT"}));
  EXPECT_TRUE(test::FailsWith(Subprocess::spawn({}), {"execvp", "empty argv"}));
}

TEST(Subprocess, BadWorkingDirectoryNamesChdirAndThePath) {
  SubprocessOptions o;
  o.cwd = test::unique_path();
  EXPECT_TRUE(test::FailsWith(Subprocess::spawn({"true"}, o), {"chdir(\"" + o.cwd + "\")", "ENOENT"}));
}

TEST(Subprocess, NoDescriptorLeaksIntoTheChild) {
  // A descriptor opened WITHOUT O_CLOEXEC (as a careless library might) and ipckit's own pipes.
  const int leaky = ::open("/dev/null", O_RDONLY);
  ASSERT_GE(leaky, 0);
  UniqueFd leaky_guard(leaky);
  IPCKIT_ASSERT_OK_AND_ASSIGN(PipePair extra, Pipe::create());
  IPCKIT_ASSERT_OK_AND_ASSIGN(Subprocess p, Subprocess::open_read(helper("list_fds")));
  IPCKIT_ASSERT_OK_AND_ASSIGN(std::string fds, p.out()->read_to_end());
  IPCKIT_ASSERT_OK_AND_ASSIGN(ExitStatus s, p.wait());
  EXPECT_TRUE(s.success());
  EXPECT_EQ(fds, "0\n1\n2\n");

  // pass_fds keeps exactly the listed ones.
  SubprocessOptions o;
  o.out = Stdio::pipe();
  o.pass_fds = {leaky};
  IPCKIT_ASSERT_OK_AND_ASSIGN(Subprocess q, Subprocess::spawn(helper("list_fds"), o));
  IPCKIT_ASSERT_OK_AND_ASSIGN(std::string fds2, q.out()->read_to_end());
  IPCKIT_ASSERT_OK(q.wait());
  EXPECT_EQ(fds2, "0\n1\n2\n" + std::to_string(leaky) + "\n");
}

TEST(Subprocess, WaitReportsTheKillingSignal) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(Subprocess p, Subprocess::spawn({"sleep", "30"}));
  EXPECT_TRUE(p.running());
  IPCKIT_ASSERT_OK(p.kill(SIGTERM));
  IPCKIT_ASSERT_OK_AND_ASSIGN(ExitStatus s, p.wait());
  EXPECT_FALSE(s.exited);
  EXPECT_EQ(s.signal, SIGTERM);
  EXPECT_EQ(s.describe(), "killed by SIGTERM");
  EXPECT_FALSE(p.running());
  IPCKIT_EXPECT_OK(p.kill(SIGTERM));  // already reaped: nothing to do, no stray signal
}

TEST(Subprocess, WaitUntilTimesOutThenTryWaitSeesTheExit) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(Subprocess p, Subprocess::spawn({"sleep", "30"}));
  EXPECT_GE(p.native_handle(), 0) << "pidfd_open is available on every kernel ipckit supports here";
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto none, p.try_wait());
  EXPECT_FALSE(none.has_value());
  const auto start = Clock::now();
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto later, p.wait_until(start + 30ms));
  EXPECT_FALSE(later.has_value());
  EXPECT_GE(Clock::now() - start, 30ms);
  IPCKIT_ASSERT_OK(p.kill(SIGKILL));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto done, p.wait_until(deadline_after(10s)));
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(done->signal, SIGKILL);
}

TEST(Subprocess, DestructorKillsAndReapsAnUnwaitedChild) {
  pid_t pid = -1;
  {
    IPCKIT_ASSERT_OK_AND_ASSIGN(Subprocess p, Subprocess::spawn({"sleep", "30"}));
    pid = p.pid();
  }
  // Reaped: waitpid knows no such child any more (a zombie would still be waitable).
  errno = 0;
  EXPECT_EQ(::waitpid(pid, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

TEST(Subprocess, DetachedChildOutlivesTheObject) {
  pid_t pid = -1;
  {
    IPCKIT_ASSERT_OK_AND_ASSIGN(Subprocess p, Subprocess::spawn({"sleep", "30"}));
    pid = p.pid();
    p.detach();
  }
  EXPECT_EQ(::kill(pid, 0), 0);
  EXPECT_EQ(::waitpid(pid, nullptr, WNOHANG), 0);  // still running
  ::kill(pid, SIGKILL);
  EXPECT_EQ(test::wait_child(pid).signal, SIGKILL);
}

TEST(Subprocess, WritingToAnExitedChildsStdinIsPeerClosed) {
  auto child = test::run_in_child([] {
    ::signal(SIGPIPE, SIG_DFL);
    SubprocessOptions o;
    o.in = Stdio::pipe();
    auto p = Subprocess::spawn({"true"}, o);
    if (!p) return 2;
    auto s = p->wait_until(deadline_after(10s));
    if (!s || !*s) return 3;
    auto w = p->in()->write_all("too late");
    return (w && w->status == IoStatus::kPeerClosed) ? 0 : 4;
  });
  EXPECT_TRUE(child.ok()) << child.describe();
}

}  // namespace
}  // namespace ipckit
