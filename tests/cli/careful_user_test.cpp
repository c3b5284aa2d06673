// SPDX-License-Identifier: Apache-2.0
// ipckit-test: timeout 120
// ipckit-test: resource-lock mqueue
// `ipckit send/recv/bench` as a careful user expects them (issue 23): bad usage is exit 2 with one
// line starting "ipckit: " or "ipckit SUBCOMMAND: ", numeric options are range-checked, a closed
// stdout ends recv quietly, tcp port 0 says which port. Each test asserts the exit code and the first
// stderr line. Real processes; readiness is --ready-fd, never a sleep.
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cli_harness.hpp"
#include "ipckit/message/posix_mq.hpp"

namespace ipckit::test {
namespace {

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

std::string joined(const std::vector<std::string>& args) {
  std::string j;
  for (const auto& a : args) j += a + " ";
  return j;
}

// Exit `code`, the first stderr line starts with `prefix` and contains every needle.
void expect_first_line(const CliRun& r, const std::vector<std::string>& args, int code, const std::string& prefix,
                       std::initializer_list<const char*> needles) {
  EXPECT_TRUE(r.result.exited && r.result.code == code)
      << joined(args) << ": " << r.result.describe() << " (wanted exit " << code << ") " << r.err;
  const std::string line = first_line(r.err);
  EXPECT_EQ(line.rfind(prefix, 0), 0u) << joined(args) << ": " << line;
  for (const char* n : needles) EXPECT_NE(line.find(n), std::string::npos) << joined(args) << ": " << line << " lacks " << n;
}

// Bad usage: exit 2 and exactly one stderr line.
void expect_usage(const std::vector<std::string>& args, const std::string& prefix,
                  std::initializer_list<const char*> needles) {
  const CliRun r = run_ipckit(args);
  expect_first_line(r, args, 2, prefix, needles);
  EXPECT_EQ(count_lines(r.err), 1u) << joined(args) << ": " << r.err;
  EXPECT_TRUE(r.out.empty()) << joined(args) << ": " << r.out;
}

// Item 6: CLI11's own exit codes (104-114) never leak; every parse error is "ipckit[ CMD]: ", exit 2.
TEST(CliCarefulUser, ParseErrorsAreExitTwoWithOneLine) {
  expect_usage({"-V"}, "ipckit: ", {"-V", "--version", "ipckit --help"});
  expect_usage({"version"}, "ipckit: ", {"did you mean --version?"});
  expect_usage({"send", "unix:@x", "--bogus"}, "ipckit send: ", {"--bogus", "ipckit send --help"});
  expect_usage({"send", "--count", "abc", "unix:@x"}, "ipckit send: ", {"--count(\"abc\")", "not a number"});
  expect_usage({"send"}, "ipckit send: ", {"url is required"});
  expect_usage({"send", "unix:@x", "--count"}, "ipckit send: ", {"--count"});
  expect_usage({"recv", "unix:@x", "--timeout"}, "ipckit recv: ", {"--timeout"});
  expect_usage({"bench", "--compare"}, "ipckit bench: ", {"--compare"});
  expect_usage({"bench", "--compare", "a.json"}, "ipckit bench: ", {"--compare needs two JSON reports"});
  expect_usage({"bench", "--repeats", "abc"}, "ipckit bench: ", {"--repeats(\"abc\")", "1..100"});
  expect_usage({"nosuchcommand"}, "ipckit: ", {"nosuchcommand"});
}

// Item 7: every numeric option is validated (range, finite); exit 2 otherwise.
TEST(CliCarefulUser, NumericOptionsAreRangeChecked) {
  expect_usage({"send", "unix:@x", "--count", "-1"}, "ipckit send: ", {"--count(\"-1\")", "negative"});
  expect_usage({"recv", "unix:@x", "--count", "-1"}, "ipckit recv: ", {"--count(\"-1\")", "negative"});
  expect_usage({"send", "unix:@x", "--count", "0"}, "ipckit send: ", {"--count(\"0\")", "at least 1"});
  expect_usage({"recv", "unix:@x", "--count", "99999999999999999999"}, "ipckit recv: ", {"too large"});
  expect_usage({"send", "unix:@x", "--ready-fd", "-3"}, "ipckit send: ", {"--ready-fd(\"-3\")", "negative"});
  expect_usage({"recv", "unix:@x", "--ready-fd", "1"}, "ipckit recv: ", {"--ready-fd(\"1\")", "3..2147483647"});
  expect_usage({"send", "unix:@x", "--timeout", "-1"}, "ipckit send: ", {"--timeout(\"-1\")", "negative"});
  expect_usage({"send", "unix:@x", "--timeout", "nan"}, "ipckit send: ", {"--timeout(\"nan\")", "not a duration"});
  expect_usage({"recv", "unix:@x", "--timeout", "5 parsecs"}, "ipckit recv: ", {"unknown unit \"parsecs\""});
  expect_usage({"send", "unix:@x", "--size", "2GiB"}, "ipckit send: ", {"--size(\"2GiB\")", "1 B..1 GiB"});
}

// Item 7: a very large timeout (1e300, inf) waits forever instead of failing at once.
TEST(CliCarefulUser, HugeTimeoutWaitsForever) {
  for (const char* t : {"inf", "1e300"}) {
    TempDir dir;
    const std::string url = "unix:" + dir.file("s.sock");
    CliProcess sender({ipckit_binary(), "send", url, "--lines", "--timeout", t}, "hi\n");
    // The sender is retrying (no listener yet); a receiver started now is found.
    const CliRun r = run_ipckit({"recv", url, "--lines", "--count", "1", "--timeout", "20"});
    EXPECT_TRUE(r.result.ok()) << t << ": " << r.result.describe() << " " << r.err;
    EXPECT_EQ(r.out, "hi\n");
    const CliRun s = sender.finish();
    EXPECT_TRUE(s.result.ok()) << t << ": " << s.result.describe() << " " << s.err;
  }
}

// Item 8: --mechanisms '' and misspelt names are usage errors; an unwritable --json is a set-up
// failure (exit 1, as docs/bench.md says), found before any measuring.
TEST(CliCarefulUser, BenchMechanismsAndOutputs) {
  expect_usage({"bench", "--mechanisms", ""}, "ipckit bench: ", {"--mechanisms", "no mechanism named"});
  expect_usage({"bench", "--mechanisms", "unix-stram"}, "ipckit bench: ", {"did you mean unix-stream?"});
  expect_usage({"bench", "--mechanisms", "pipe,,tcp"}, "ipckit bench: ", {"empty name"});
  expect_usage({"bench", "--duration", "0"}, "ipckit bench: ", {"--duration(\"0\")", "above 0 and at most 60 s"});
  const std::vector<std::string> args{"bench", "--quick", "--mechanisms", "memcpy", "--json", "/nonexistent/dir/x.json"};
  const CliRun r = run_ipckit(args);
  expect_first_line(r, args, 1, "ipckit bench: ", {"/nonexistent/dir/x.json"});
}

// Item 9: one size parser: send --size and bench --sizes read 4KB the same way (refused as
// ambiguous, naming 4KiB), and 4KiB works for both.
TEST(CliCarefulUser, OneSizeParserEverywhere) {
  expect_usage({"send", "unix:@x", "--size", "4KB"}, "ipckit send: ", {"--size(\"4KB\")", "ambiguous", "4KiB for 4096"});
  expect_usage({"bench", "--sizes", "4KB"}, "ipckit bench: ", {"--sizes(\"4KB\")", "ambiguous", "4KiB for 4096"});
  expect_usage({"recv", "chan:/x?capacity=1MB"}, "ipckit recv: ", {"capacity", "ambiguous", "1MiB"});
  expect_usage({"recv", "chan:/x?capacity=8GiB"}, "ipckit recv: ", {"8 GiB is out of range", "4 GiB"});
  expect_usage({"send", "unix:@x", "--timeout", "1.5 fortnights"}, "ipckit send: ", {"unknown unit"});
}

// Item 10: URL options that make a channel impossible are usage errors (2), not failures (1).
TEST(CliCarefulUser, BadChanOptionsAreUsageErrors) {
  expect_usage({"send", "chan:/x?policy=lapse"}, "ipckit send: ", {"pattern=broadcast only"});
  expect_usage({"recv", "chan:/x?capacity=100", "--create"}, "ipckit recv: ", {"not a power of two", "capacity=128"});
  expect_usage({"recv", "chan:/x?capacity=4KiB&max=64KiB", "--create"}, "ipckit recv: ",
               {"below two records", "capacity= to 256KiB"});
}

// Runs `ipckit ARGS` with stdout a pipe whose read end is already closed (as `| head` that has
// finished); returns the exit status and stderr.
CliRun run_with_closed_stdout(std::vector<std::string> args) {
  TempDir dir;
  const std::string err = dir.file("err");
  int p[2];
  EXPECT_EQ(::pipe2(p, O_CLOEXEC), 0);
  args.insert(args.begin(), ipckit_binary());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  ::close(p[0]);
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int in = ::open("/dev/null", O_RDONLY);
    if (e < 0 || in < 0 || ::dup2(p[1], 1) < 0 || ::dup2(e, 2) < 0 || ::dup2(in, 0) < 0) ::_exit(126);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(p[1]);
  CliRun r;
  r.result = wait_child(pid);
  r.err = slurp(err);
  return r;
}

// Item 12: a reader that closed stdout ends recv quietly with exit 0; a command that does not exist
// is 127 as in shells; a UDP sender with no receiver says so, in the singular for one message.
TEST(CliCarefulUser, ClosedStdoutMissingCommandAndUdpWithoutReceiver) {
  {
    const CliRun r = run_with_closed_stdout({"recv", "pipe:", "--lines", "--", "seq", "1", "100000"});
    EXPECT_TRUE(r.result.ok()) << r.result.describe() << " " << r.err;
    EXPECT_EQ(r.err, "");
  }
  {
    const std::vector<std::string> args{"recv", "pipe:", "--", "/nonexistent/ipckit-no-such-command"};
    const CliRun r = run_ipckit(args);
    expect_first_line(r, args, 127, "ipckit recv: ", {"/nonexistent/ipckit-no-such-command"});
  }
  {
    // A port nobody listens on: bind one, note it, close it.
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
    ::close(fd);
    std::string lines;
    for (int i = 0; i < 50; ++i) lines += "x\n";
    const std::vector<std::string> args{"send", "udp:127.0.0.1:" + std::to_string(ntohs(a.sin_port)), "--lines"};
    const CliRun r = run_ipckit(args, lines);
    expect_first_line(r, args, 1, "ipckit send: ", {"no receiver", "start `ipckit recv"});
    EXPECT_EQ(first_line(r.err).find("1 messages"), std::string::npos) << r.err;
  }
}

// Item 13: help names the program, not its path; demo --help has no URL list; recv --size does not
// describe send's chunking; --compare reads "A.json B.json"; ipckit alone is a usage error.
TEST(CliCarefulUser, HelpIsForAShellUser) {
  {
    const CliRun r = run_ipckit({});
    EXPECT_TRUE(r.result.exited && r.result.code == 2) << r.result.describe();
    EXPECT_EQ(first_line(r.err), "ipckit: no command given; run ipckit --help for the commands");
    EXPECT_NE(r.err.find("send"), std::string::npos);
    EXPECT_TRUE(r.out.empty());
  }
  {
    const CliRun r = run_ipckit({"--help"});
    ASSERT_TRUE(r.result.ok());
    EXPECT_EQ(r.out.find(IPCKIT_TEST_BINARY_DIR), std::string::npos) << r.out.substr(0, 200);
    EXPECT_NE(r.out.find("Usage: ipckit "), std::string::npos) << r.out.substr(0, 200);
    for (const char* n : {"mode=", "policy=block|lapse", "udp", "Exit codes", "4KB is refused"}) {
      EXPECT_NE(r.out.find(n), std::string::npos) << n;
    }
  }
  {
    const CliRun r = run_ipckit({"demo", "--help"});
    ASSERT_TRUE(r.result.ok());
    EXPECT_EQ(r.out.find("URLs (one per mechanism)"), std::string::npos) << r.out;
  }
  {
    const CliRun r = run_ipckit({"recv", "--help"});
    ASSERT_TRUE(r.result.ok());
    const std::string size_line = r.out.substr(r.out.find("--size"), 200);
    EXPECT_EQ(size_line.find("cut into"), std::string::npos) << size_line;
  }
  {
    const CliRun r = run_ipckit({"bench", "--help"});
    ASSERT_TRUE(r.result.ok());
    EXPECT_NE(r.out.find("--compare A.json B.json"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("x 2"), std::string::npos) << r.out;
  }
  {
    const CliRun r = run_ipckit({"demo"});
    ASSERT_TRUE(r.result.ok()) << r.err;
    EXPECT_FALSE(r.out.empty());
  }
}

// Item 5: recv on tcp port 0 says which port it bound, before --ready-fd; a sender reaches it there.
TEST(CliCarefulUser, TcpPortZeroSaysWhichPort) {
  CliProcess recv(ipckit_args({"recv", "tcp:127.0.0.1:0", "--lines", "--count", "1"}, true), "", true);
  ASSERT_TRUE(recv.wait_ready());
  const std::string line = first_line(recv.err_so_far());
  const std::string prefix = "ipckit recv: listening on 127.0.0.1:";
  ASSERT_EQ(line.rfind(prefix, 0), 0u) << line;
  const std::string port = line.substr(prefix.size());
  ASSERT_FALSE(port.empty());
  EXPECT_NE(port, "0");
  const CliRun s = run_ipckit({"send", "tcp:127.0.0.1:" + port, "--lines"}, "hello\n");
  EXPECT_TRUE(s.result.ok()) << s.result.describe() << " " << s.err;
  const CliRun r = recv.finish();
  EXPECT_TRUE(r.result.ok()) << r.result.describe() << " " << r.err;
  EXPECT_EQ(r.out, "hello\n");
}

// Item 1: a second listener on the same unix: path is refused (naming the live one) and does not
// disturb the first: no probe connection is taken for its client; the real sender still reaches it.
TEST(CliCarefulUser, SecondListenerLeavesTheFirstAlone) {
  for (const char* scheme : {"unix", "unix-seqpacket", "unix-dgram"}) {
    TempDir dir;
    const std::string url = std::string(scheme) + ":" + dir.file("s.sock");
    CliProcess first(ipckit_args({"recv", url, "--lines", "--count", "1"}, true), "", true);
    ASSERT_TRUE(first.wait_ready()) << scheme;
    const std::vector<std::string> args{"recv", url, "--lines"};
    const CliRun second = run_ipckit(args);
    expect_first_line(second, args, 1, "ipckit recv: ", {"EADDRINUSE", "a live server", "held by pid"});
    EXPECT_EQ(second.err.find("unlink_socket"), std::string::npos) << second.err;
    const CliRun s = run_ipckit({"send", url, "--lines"}, "hello\n");
    EXPECT_TRUE(s.result.ok()) << scheme << ": " << s.result.describe() << " " << s.err;
    const CliRun r = first.finish();
    EXPECT_TRUE(r.result.ok()) << scheme << ": " << r.result.describe() << " " << r.err;
    EXPECT_EQ(r.out, "hello\n") << scheme;
  }
}

// Item 4: after a SIGKILLed receiver, a new one replaces the socket file it left, for all three
// unix kinds alike; a file that is not a socket is left alone and named, with rm as the remedy.
TEST(CliCarefulUser, StaleSocketFilesAreReplacedAlike) {
  for (const char* scheme : {"unix", "unix-seqpacket", "unix-dgram"}) {
    TempDir dir;
    const std::string path = dir.file("s.sock");
    const std::string url = std::string(scheme) + ":" + path;
    {
      CliProcess crashed(ipckit_args({"recv", url}, true), "", true);
      ASSERT_TRUE(crashed.wait_ready()) << scheme;
      crashed.kill(SIGKILL);
      (void)crashed.finish();
    }
    ASSERT_EQ(::access(path.c_str(), F_OK), 0) << scheme << ": the killed receiver left no file";
    CliProcess fresh(ipckit_args({"recv", url, "--lines", "--count", "1"}, true), "", true);
    ASSERT_TRUE(fresh.wait_ready()) << scheme << ": " << fresh.err_so_far();
    const CliRun s = run_ipckit({"send", url, "--lines"}, "again\n");
    EXPECT_TRUE(s.result.ok()) << scheme << ": " << s.err;
    const CliRun r = fresh.finish();
    EXPECT_TRUE(r.result.ok()) << scheme << ": " << r.err;
    EXPECT_EQ(r.out, "again\n");
  }
  TempDir dir;
  const std::string file = dir.file("data.txt");
  std::ofstream(file) << "keep";
  const std::vector<std::string> args{"recv", "unix-dgram:" + file};
  const CliRun r = run_ipckit(args);
  expect_first_line(r, args, 1, "ipckit recv: ", {"EADDRINUSE", "a regular file, not a socket", "rm "});
  EXPECT_EQ(slurp(file), "keep");
}

// Item 4: another user's socket file is never replaced, and the error names the owner.
TEST(CliCarefulUser, AnotherUsersSocketFileIsRefusedNamingTheOwner) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to chown a socket file to another uid";
  TempDir dir;
  const std::string path = dir.file("theirs.sock");
  {
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    path.copy(a.sun_path, sizeof a.sun_path - 1);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ::close(fd);  // stale, but not ours
  }
  ASSERT_EQ(::chown(path.c_str(), 65534, 65534), 0);
  for (const char* scheme : {"unix", "unix-dgram", "unix-seqpacket"}) {
    const std::vector<std::string> args{"recv", std::string(scheme) + ":" + path};
    const CliRun r = run_ipckit(args);
    expect_first_line(r, args, 1, "ipckit recv: ", {"EADDRINUSE", "owned by uid 65534", "not this user's"});
  }
  struct stat st {};
  ASSERT_EQ(::lstat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 65534u);
}

// Item 3: tcp:*:PORT listens on both families: an IPv6 and an IPv4 sender both reach it.
TEST(CliCarefulUser, TcpAnyAddressIsDualStack) {
  const int probe = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (probe < 0) GTEST_SKIP() << "no IPv6 on this host";
  ::close(probe);
  for (const char* host : {"[::1]", "127.0.0.1"}) {
    CliProcess recv(ipckit_args({"recv", "tcp:*:0", "--lines", "--count", "1"}, true), "", true);
    ASSERT_TRUE(recv.wait_ready());
    const std::string line = first_line(recv.err_so_far());
    const std::string port = line.substr(line.rfind(':') + 1);
    ASSERT_FALSE(port.empty()) << line;
    const CliRun s = run_ipckit({"send", std::string("tcp:") + host + ":" + port, "--lines"}, "dual\n");
    EXPECT_TRUE(s.result.ok()) << host << ": " << s.err;
    const CliRun r = recv.finish();
    EXPECT_TRUE(r.result.ok()) << host << ": " << r.err;
    EXPECT_EQ(r.out, "dual\n") << host;
  }
}

// Item 14: one rule for every path scheme: absolute, ./ or ../; a bare word is refused with the
// spellings that work.
TEST(CliCarefulUser, PathSchemesTakeAbsoluteOrDotPaths) {
  expect_usage({"recv", "unix:relative.sock"}, "ipckit recv: ", {"is not a path", "unix:./relative.sock", "unix:@relative.sock"});
  expect_usage({"recv", "fifo:relative"}, "ipckit recv: ", {"is not a path", "fifo:./relative"});
  expect_usage({"send", "unix-dgram:x.sock"}, "ipckit send: ", {"unix-dgram:./x.sock"});
  expect_usage({"send", "sysvmq:relative"}, "ipckit send: ", {"bad key"});
}

// Item 11: hints at the shell name flags and shell commands, not C++ identifiers.
TEST(CliCarefulUser, HintsNameFlagsNotIdentifiers) {
  const std::vector<std::string> args{"recv", "mq:" + unique_name()};
  const CliRun r = run_ipckit(args);
  expect_first_line(r, args, 1, "ipckit recv: ", {"ENOENT", "pass --create"});
  EXPECT_EQ(r.err.find("EndpointOptions"), std::string::npos) << r.err;
  const std::vector<std::string> a2{"send", "unix:@" + unique_name().substr(1), "--timeout", "0.1"};
  const CliRun r2 = run_ipckit(a2, "x");
  expect_first_line(r2, a2, 1, "ipckit send: ", {"ETIMEDOUT", "abstract name"});
  EXPECT_EQ(r2.err.find("its file"), std::string::npos) << r2.err;
  TempDir dir;
  const std::string file = dir.file("plain");
  std::ofstream(file) << "x";
  const std::vector<std::string> a3{"send", "unix:" + file};
  const CliRun r3 = run_ipckit(a3, "x");
  expect_first_line(r3, a3, 1, "ipckit send: ", {"ECONNREFUSED", "a regular file, not a socket"});
}

// Item 15: -v shows the options in effect, the connect retries and the address reached.
TEST(CliCarefulUser, VerboseShowsOptionsRetriesAndAddress) {
  CliProcess recv(ipckit_args({"recv", "tcp:127.0.0.1:0", "--lines", "--count", "1"}, true), "", true);
  ASSERT_TRUE(recv.wait_ready());
  const std::string line = first_line(recv.err_so_far());
  const std::string port = line.substr(line.rfind(':') + 1);
  const CliRun s = run_ipckit({"send", "tcp:127.0.0.1:" + port, "--lines", "-v"}, "v\n");
  EXPECT_TRUE(s.result.ok()) << s.err;
  EXPECT_EQ(first_line(s.err).rfind("ipckit send: send tcp:127.0.0.1:" + port + " (tcp): lines framing", 0), 0u) << s.err;
  EXPECT_NE(s.err.find("timeout 5 s (default)"), std::string::npos) << s.err;
  EXPECT_NE(s.err.find("connected to 127.0.0.1:" + port), std::string::npos) << s.err;
  EXPECT_TRUE(recv.finish().result.ok());
  // Nobody listening: the retries are shown, then the timeout.
  TempDir dir;
  const CliRun r = run_ipckit({"send", "unix:" + dir.file("none.sock"), "--verbose", "--timeout", "200ms"}, "x");
  EXPECT_TRUE(r.result.exited && r.result.code == 1) << r.result.describe();
  EXPECT_NE(r.err.find("attempt 1: unix:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("ETIMEDOUT"), std::string::npos) << r.err;
}

// Item 2 helpers: a hand-written peer that writes length frames and closes, as a killed `ipckit
// send` leaves the stream at a frame boundary.
std::string length_frames(std::initializer_list<std::string_view> msgs, bool end_frame) {
  std::string wire;
  for (auto m : msgs) {
    const auto n = static_cast<std::uint32_t>(m.size());
    for (int i = 0; i < 4; ++i) wire.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
    wire.append(m);
  }
  if (end_frame) wire.append(4, '\xff');
  return wire;
}

void write_to(const std::string& scheme, const std::string& path, const std::string& bytes) {
  int fd = -1;
  if (scheme == "fifo") {
    fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  } else {
    fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    path.copy(a.sun_path, sizeof a.sun_path - 1);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << path;
  }
  ASSERT_GE(fd, 0) << path;
  ASSERT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  ::close(fd);
}

// Item 2: a length-framed stream that ends at a frame boundary without the sender's end-of-stream
// frame is an error naming what arrived (exit 1), and with the frame a clean end (exit 0).
TEST(CliCarefulUser, StreamWithoutTheEndFrameIsAnErrorNamingWhatArrived) {
  for (const char* kind : {"unix", "fifo"}) {
    const std::string scheme = kind;
    for (const bool end_frame : {false, true}) {
      TempDir dir;
      const std::string path = dir.file("s");
      const std::vector<std::string> args{"recv", scheme + ":" + path, "--create"};
      CliProcess recv(ipckit_args(args, true), "", true);
      ASSERT_TRUE(recv.wait_ready()) << scheme << ": " << recv.err_so_far();
      write_to(scheme, path, length_frames({"one", "two"}, end_frame));
      const CliRun r = recv.finish();
      EXPECT_EQ(r.out, "onetwo") << scheme;
      if (end_frame) {
        EXPECT_TRUE(r.result.ok()) << scheme << ": " << r.result.describe() << " " << r.err;
      } else {
        expect_first_line(r, args, 1, "ipckit recv: ",
                          {"without the sender's end-of-stream frame", "after 2 messages (6 B)", "--no-end-marker"});
      }
    }
  }
}

// Item 2: a real `ipckit send` SIGKILLed mid-stream never leaves its receiver exiting 0.
TEST(CliCarefulUser, KilledStreamSenderIsAnErrorForTheReceiver) {
  for (const char* kind : {"unix", "fifo"}) {
    const std::string scheme = kind;
    TempDir dir;
    const std::string url = scheme + ":" + dir.file("s");
    const std::vector<std::string> args{"recv", url, "--create"};
    CliProcess recv(ipckit_args(args, true), "", true);
    ASSERT_TRUE(recv.wait_ready()) << scheme;
    // 1 MiB sent 100000 times: still streaming when it is killed.
    CliProcess send(ipckit_args({"send", url, "--count", "100000"}, true), std::string(1 << 20, 'k'), true);
    ASSERT_TRUE(send.wait_ready()) << scheme << ": " << send.err_so_far();
    send.kill(SIGKILL);
    (void)send.finish();
    const CliRun r = recv.finish();
    EXPECT_TRUE(r.result.exited && r.result.code == 1) << scheme << ": " << r.result.describe() << " " << r.err;
    const std::string line = first_line(r.err);
    EXPECT_TRUE(line.find("without the sender's end-of-stream frame") != std::string::npos ||
                line.find("ended inside a frame") != std::string::npos)
        << scheme << ": " << line;
    EXPECT_NE(line.find(" message"), std::string::npos) << line;  // what arrived: "after 3 messages (...)"
  }
}

// Item 2: queues and datagram sockets end a session without --count or a timeout; on the queues the
// sender may start first.
TEST(CliCarefulUser, MessageMechanismsEndTheSessionWithoutCount) {
  std::string data;
  for (int i = 1; i <= 2000; ++i) data += std::to_string(i) + "\n";
  TempDir dir;
  for (const std::string& url : {"mq:" + unique_name(), "sysvmq:" + dir.path() + "?proj=9"}) {
    CliProcess send(ipckit_args({"send", url, "--create", "--lines", "--timeout", "30"}, true), data, true);
    ASSERT_TRUE(send.wait_ready()) << url << ": " << send.err_so_far();
    const CliRun r = run_ipckit({"recv", url, "--lines", "--remove-on-exit", "--timeout", "30"});
    EXPECT_TRUE(r.result.ok()) << url << ": " << r.result.describe() << " " << r.err;
    EXPECT_EQ(r.out, data) << url;
    const CliRun s = send.finish();
    EXPECT_TRUE(s.result.ok()) << url << ": " << s.err;
  }
  const std::string big(200000, 'd');  // several 64 KiB datagrams
  for (const std::string& url : {"unix-dgram:" + dir.file("d.sock"), "unix-seqpacket:" + dir.file("p.sock"),
                                "udp:127.0.0.1:" + std::to_string(test::free_loopback_port(SOCK_DGRAM))}) {
    CliProcess recv(ipckit_args({"recv", url, "--timeout", "30"}, true), "", true);
    ASSERT_TRUE(recv.wait_ready()) << url << ": " << recv.err_so_far();
    const CliRun s = run_ipckit({"send", url}, url.rfind("udp:", 0) == 0 ? data : big);
    EXPECT_TRUE(s.result.ok()) << url << ": " << s.err;
    const CliRun r = recv.finish();
    EXPECT_TRUE(r.result.ok()) << url << ": " << r.result.describe() << " " << r.err;
    EXPECT_EQ(r.out, url.rfind("udp:", 0) == 0 ? data : big) << url;
  }
}

// Item 2: an end marker left in a queue by an earlier session (a --count receiver stopped first)
// never ends a later session.
TEST(CliCarefulUser, StaleEndMarkerNeverEndsTheNextSession) {
  const std::string url = "mq:" + unique_name();
  CliProcess first(ipckit_args({"recv", url, "--create", "--lines", "--count", "1"}, true), "", true);
  ASSERT_TRUE(first.wait_ready());
  EXPECT_TRUE(run_ipckit({"send", url, "--lines"}, "a\nb\n").result.ok());
  const CliRun r1 = first.finish();
  EXPECT_TRUE(r1.result.ok()) << r1.err;
  EXPECT_EQ(r1.out, "a\n");
  CliProcess second(ipckit_args({"recv", url, "--lines", "--remove-on-exit", "--timeout", "30"}, true), "", true);
  ASSERT_TRUE(second.wait_ready());
  EXPECT_TRUE(run_ipckit({"send", url, "--lines"}, "c\n").result.ok());
  const CliRun r2 = second.finish();
  EXPECT_TRUE(r2.result.ok()) << r2.result.describe() << " " << r2.err;
  EXPECT_EQ(r2.out, "b\nc\n");  // b was queued by session 1; session 1's end marker ended nothing
}

// Item 2: a queue's sender killed mid-session: the receiver drains what was sent, then exits 1
// saying the sender died, instead of waiting forever.
TEST(CliCarefulUser, KilledQueueSenderIsReportedByTheReceiver) {
  const std::string url = "mq:" + unique_name();
  const std::vector<std::string> args{"recv", url, "--create", "--lines", "--remove-on-exit"};
  CliProcess recv(ipckit_args(args, true), "", true);
  ASSERT_TRUE(recv.wait_ready());
  CliProcess send(ipckit_args({"send", url, "--lines", "--count", "1000000"}, true), "x\n", true);
  ASSERT_TRUE(send.wait_ready());
  send.kill(SIGKILL);
  (void)send.finish();
  const CliRun r = recv.finish();
  expect_first_line(r, args, 1, "ipckit recv: ", {"peer died", "the sender was found dead"});
}

// Item 2: --raw sends plain messages (no markers) for programs that do not speak them.
TEST(CliCarefulUser, RawSendsPlainMessagesToAQueue) {
  const std::string name = unique_name();
  MqOptions mo;
  mo.open = OpenMode::kCreateExclusive;
  mo.access = O_RDONLY;
  mo.attributes.max_messages = 8;
  mo.attributes.message_size = 64;
  auto mq = PosixMq::open(name, mo);
  ASSERT_TRUE(mq.has_value()) << mq.error().str();
  const CliRun s = run_ipckit({"send", "mq:" + name, "--raw"}, "p\nq\n");
  EXPECT_TRUE(s.result.ok()) << s.err;
  std::vector<std::string> got;
  for (;;) {
    auto m = mq->receive_until(deadline_after(std::chrono::milliseconds(100)));
    ASSERT_TRUE(m.has_value()) << m.error().str();
    if (!*m) break;
    got.push_back((*m)->data);
  }
  EXPECT_EQ(got, (std::vector<std::string>{"p\nq\n"}));  // one message, as it was: no begin or end marker
  ASSERT_TRUE(PosixMq::unlink(name).has_value());
}

}  // namespace
}  // namespace ipckit::test
