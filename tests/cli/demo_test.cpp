// SPDX-License-Identifier: Apache-2.0
// `ipckit demo`: every demo runs to exit 0 and narrates; the listing names them all; an unknown name
// is a clear error that lists the names. The demos are the examples (built next to the ipckit binary).
// ipckit-test: timeout 300
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/ipckit_test.hpp"

namespace {

namespace test = ipckit::test;
using ::testing::HasSubstr;

struct CliRun {
  int exit_code = -1;  // 128 + signal when killed
  std::string out;
  std::string err;
};

std::string slurp(int fd) {
  std::string s;
  ::lseek(fd, 0, SEEK_SET);
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) s.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return s;
}

// Runs the ipckit binary with stdout and stderr in memfds (no pipe to fill and deadlock on).
CliRun run_ipckit(const std::vector<std::string>& args,
                  const std::string& exe = std::string(IPCKIT_TEST_BINARY_DIR) + "/ipckit") {
  const int out = ::memfd_create("ipckit-out", MFD_CLOEXEC);
  const int err = ::memfd_create("ipckit-err", MFD_CLOEXEC);
  CliRun r;
  if (out < 0 || err < 0) return r;
  const pid_t pid = ::fork();
  if (pid == 0) {
    // Every demo runs with nothing on stdin: none may wait for a terminal.
    const int null_in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_in < 0 || ::dup2(null_in, STDIN_FILENO) < 0) ::_exit(126);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(err, STDERR_FILENO);
    std::vector<char*> argv{const_cast<char*>(exe.c_str())};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(exe.c_str(), argv.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Every program of the reference tutorials that has a demo (docs/cli.md maps them to the tutorials).
const std::vector<std::string>& expected_demos() {
  static const std::vector<std::string> names{
      "pipe",          "pipe-dup2",     "popen",       "byte-stream",    "fifo",        "posix-mq",
      "sysv-mq",       "posix-shm",     "sysv-shm",    "shared-counter", "mapped-file", "shm-sem",
      "unnamed-sem",   "mutex-condvar", "robust-mutex", "file-lock",     "sysv-sem",    "futex-eventfd",
      "socketpair",    "unix-stream",   "unix-dgram",  "tcp",            "udp",         "fd-passing",
      "signal-payload", "pty",          "memfd",       "files",          "channel",     "channel-epoll",
  };
  return names;
}

TEST(Demo, ListNamesEveryDemoOneLineEach) {
  const CliRun r = run_ipckit({"demo"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::set<std::string> listed;
  for (const auto& line : lines_of(r.out)) {
    ASSERT_FALSE(line.empty());
    const std::string name = line.substr(0, line.find(' '));
    EXPECT_GT(line.size(), name.size() + 10) << "no description: " << line;
    EXPECT_TRUE(listed.insert(name).second) << "listed twice: " << name;
  }
  EXPECT_EQ(listed, std::set<std::string>(expected_demos().begin(), expected_demos().end()));
}

TEST(Demo, UnknownNameIsAClearErrorListingTheNames) {
  const CliRun r = run_ipckit({"demo", "no-such-demo"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("unknown demo \"no-such-demo\""));
  for (const auto& name : expected_demos()) EXPECT_THAT(r.err, HasSubstr(name));
  EXPECT_TRUE(r.out.empty()) << r.out;
}

TEST(Demo, ExamplesDirOverrideFallsBackToTheBuildTree) {
  // With IPCKIT_EXAMPLES_DIR pointing nowhere the build-tree copy is still found: the override is
  // searched first, never instead of the binary's own location.
  ::setenv("IPCKIT_EXAMPLES_DIR", "/nonexistent/ipckit-examples", 1);
  const CliRun r = run_ipckit({"demo", expected_demos().front()});
  ::unsetenv("IPCKIT_EXAMPLES_DIR");
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(Demo, MissingExampleNamesWhereItLooked) {
  // A copy of the binary in a directory without examples: the error names the executable it
  // needs and every place it looked.
  test::TempDir dir;
  const std::string copy = dir.file("ipckit");
  {
    std::ifstream in(std::string(IPCKIT_TEST_BINARY_DIR) + "/ipckit", std::ios::binary);
    std::ofstream out(copy, std::ios::binary);
    out << in.rdbuf();
  }
  ASSERT_EQ(::chmod(copy.c_str(), 0700), 0);
  const CliRun r = run_ipckit({"demo", "posix-shm"}, copy);
  ::unlink(copy.c_str());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("example_memory_posix_shm not found"));
  EXPECT_THAT(r.err, HasSubstr(dir.path() + "/examples/example_memory_posix_shm"));
  EXPECT_THAT(r.err, HasSubstr("IPCKIT_EXAMPLES_DIR"));
}

// T0's Example 3 as the tutorial runs it: `write` in one terminal, then `read` in another; the object
// stays between the two commands (kernel persistence) and the reader removes it.
TEST(Demo, PosixShmRunsAsTwoCommandsWriteThenRead) {
  const std::string name = test::unique_name();
  ::setenv("IPCKIT_DEMO_SHM_NAME", name.c_str(), 1);
  const CliRun early = run_ipckit({"demo", "posix-shm", "read"});
  const CliRun write = run_ipckit({"demo", "posix-shm", "write"});
  const CliRun again = run_ipckit({"demo", "posix-shm", "write"});
  const bool left = ::access(("/dev/shm" + name).c_str(), F_OK) == 0;
  const CliRun read = run_ipckit({"demo", "posix-shm", "read"});
  const bool gone = ::access(("/dev/shm" + name).c_str(), F_OK) != 0;
  ::unsetenv("IPCKIT_DEMO_SHM_NAME");
  ::shm_unlink(name.c_str());  // in case a step failed
  EXPECT_EQ(early.exit_code, 1);
  EXPECT_THAT(early.err, HasSubstr("run `ipckit demo posix-shm write` first"));
  ASSERT_EQ(write.exit_code, 0) << write.err;
  EXPECT_THAT(write.out, HasSubstr("counter=42"));
  EXPECT_EQ(again.exit_code, 1) << "a second writer finds the first one's object";
  EXPECT_THAT(again.err, HasSubstr("ipckit demo posix-shm read"));
  EXPECT_TRUE(left) << "the object outlives the writer";
  ASSERT_EQ(read.exit_code, 0) << read.err;
  EXPECT_THAT(read.out, HasSubstr("read counter=42, message=\"Hello from writer process!\""));
  EXPECT_TRUE(gone) << "the reader removes the name";
}

TEST(Demo, UnknownRoleIsAUsageErrorNamingTheRoles) {
  const CliRun bad = run_ipckit({"demo", "posix-shm", "bogus"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("unknown role \"bogus\"; the roles are: write,read"));
  const CliRun none = run_ipckit({"demo", "pipe", "write"});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_THAT(none.err, HasSubstr("takes no role"));
  EXPECT_TRUE(bad.out.empty() && none.out.empty());
}

// Every `ipckit demo NAME` the README and docs/ mention is a demo that exists.
TEST(Demo, EveryDemoTheDocsNameExists) {
  const std::set<std::string> known(expected_demos().begin(), expected_demos().end());
  std::vector<std::string> pages{std::string(IPCKIT_SOURCE_DIR) + "/README.md"};
  for (const auto& e : std::filesystem::directory_iterator(std::string(IPCKIT_SOURCE_DIR) + "/docs")) {
    if (e.path().extension() == ".md") pages.push_back(e.path().string());
  }
  const std::regex mention(R"(ipckit demo ([a-z][a-z0-9-]*))");
  int mentions = 0;
  for (const auto& page : pages) {
    std::ifstream in(page);
    std::ostringstream text;
    text << in.rdbuf();
    const std::string body = text.str();
    for (std::sregex_iterator it(body.begin(), body.end(), mention), end; it != end; ++it) {
      const std::string name = (*it)[1];
      if (known.count(name) != 0) {
        ++mentions;
        continue;
      }
      ADD_FAILURE() << page << " mentions `ipckit demo " << name << "`, which is not a demo";
    }
  }
  EXPECT_GT(mentions, 20);  // the pages were found and read
}

class EveryDemo : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryDemo, ExitsZeroAndNarrates) {
  const CliRun r = run_ipckit({"demo", GetParam()});
  ASSERT_EQ(r.exit_code, 0) << "stdout:\n" << r.out << "\nstderr:\n" << r.err;
  const auto lines = lines_of(r.out);
  ASSERT_GE(lines.size(), 2u);
  EXPECT_THAT(lines[0], HasSubstr("== ipckit demo " + GetParam() + ": "));
  EXPECT_THAT(lines[1], HasSubstr("== source: examples/"));
  // Narration: the program says what each step does, at least three steps.
  EXPECT_GE(lines.size() - 2, 3u) << r.out;
}

std::string test_name(const ::testing::TestParamInfo<std::string>& param_info) {
  std::string n = param_info.param;
  for (char& c : n) {
    if (c == '-') c = '_';
  }
  return n;
}

INSTANTIATE_TEST_SUITE_P(Demo, EveryDemo, ::testing::ValuesIn(expected_demos()), test_name);

}  // namespace
