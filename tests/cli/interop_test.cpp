// SPDX-License-Identifier: Apache-2.0
// ipckit talks to ordinary tools: socat and nc on the other end of fifo:, unix:, tcp: and udp:, with
// --lines (newline framing; on udp one datagram per line, newline included, as those tools send) and
// --raw (plain bytes). Both directions. Readiness: ipckit's --ready-fd; the ipckit sender retries
// until the tool listens; for a tool that receives udp, its port appearing in /proc/net/udp.
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <fstream>
#include <random>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "cli_harness.hpp"

namespace ipckit::test {
namespace {

std::string lines_input() {
  std::string s;
  for (int i = 0; i < 200; ++i) s += "line " + std::to_string(i) + " of the interop test\n";
  return s;
}

std::string raw_input() {
  std::mt19937_64 rng(99);
  std::string s(100000, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

// A tool as a CliProcess: argv[0] resolved to /usr/bin.
std::vector<std::string> tool(std::vector<std::string> argv) {
  argv[0] = "/usr/bin/" + argv[0];
  return argv;
}

// ipckit recv URL MODE (ready) <- tool with `input` on stdin.
void tool_to_ipckit(const std::string& url, const char* mode, std::vector<std::string> tool_argv,
                    const std::string& input, std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"recv", url, mode, "--timeout", "30"};
  args.insert(args.end(), extra.begin(), extra.end());
  CliProcess recv(ipckit_args(args, true), "", true);
  ASSERT_TRUE(recv.wait_ready());
  CliProcess t(tool(std::move(tool_argv)), input);
  const CliRun tr = t.finish();
  EXPECT_TRUE(tr.result.ok()) << tr.result.describe() << ": " << tr.err;
  const CliRun r = recv.finish();
  ASSERT_TRUE(r.result.ok()) << r.result.describe() << ": " << r.err;
  EXPECT_TRUE(r.out == input) << url << " " << mode << ": received " << r.out.size() << " of " << input.size()
                              << " bytes";
}

// tool (receiving, started first) <- ipckit send URL MODE with `input`.
void ipckit_to_tool(const std::string& url, const char* mode, std::vector<std::string> tool_argv,
                    const std::string& input, const std::function<void()>& wait_tool = {}) {
  CliProcess t(tool(std::move(tool_argv)), "");
  if (wait_tool) wait_tool();
  const CliRun s = run_ipckit({"send", url, mode, "--timeout", "30"}, input);
  EXPECT_TRUE(s.result.ok()) << s.result.describe() << ": " << s.err;
  const CliRun tr = t.finish();
  ASSERT_TRUE(tr.result.ok()) << tr.result.describe() << ": " << tr.err;
  EXPECT_TRUE(tr.out == input) << url << " " << mode << ": the tool got " << tr.out.size() << " of " << input.size()
                               << " bytes";
}

// Waits until something is bound to UDP `port` on this host (the receiving tool gives no signal).
void wait_udp_bound(std::uint16_t port) {
  char hex[8];
  std::snprintf(hex, sizeof hex, ":%04X", port);
  const Deadline deadline = deadline_after(std::chrono::seconds(20));
  auto pause = std::chrono::milliseconds(1);
  while (Clock::now() < deadline) {
    std::ifstream f("/proc/net/udp");
    std::string line;
    while (std::getline(f, line)) {
      // "  sl  local_address rem_address ...": the local address is the second field.
      std::istringstream fields(line);
      std::string sl, local;
      fields >> sl >> local;
      if (local.size() > 5 && local.substr(local.size() - 5) == hex) return;
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << "nothing bound to udp port " << port;
}

TEST(Interop, FifoWithSocat) {
  TempDir dir;
  const std::string path = dir.file("f");
  for (const char* mode : {"--lines", "--raw"}) {
    const std::string input = std::string(mode) == "--lines" ? lines_input() : raw_input();
    tool_to_ipckit("fifo:" + path, mode, {"socat", "-u", "STDIN", "OPEN:" + path + ",wronly"}, input,
                   {"--create", "--remove-on-exit"});
    ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
    ipckit_to_tool("fifo:" + path, mode, {"socat", "-u", "OPEN:" + path + ",rdonly", "STDOUT"}, input);
    ASSERT_EQ(::unlink(path.c_str()), 0);
  }
}

TEST(Interop, UnixWithSocatAndNc) {
  TempDir dir;
  for (const char* mode : {"--lines", "--raw"}) {
    const std::string input = std::string(mode) == "--lines" ? lines_input() : raw_input();
    const std::string a = dir.file(std::string("a") + mode);
    tool_to_ipckit("unix:" + a, mode, {"socat", "-u", "STDIN", "UNIX-CONNECT:" + a}, input, {"--remove-on-exit"});
    const std::string b = dir.file(std::string("b") + mode);
    tool_to_ipckit("unix:" + b, mode, {"nc", "-N", "-U", b}, input, {"--remove-on-exit"});
    const std::string c = dir.file(std::string("c") + mode);
    ipckit_to_tool("unix:" + c, mode, {"socat", "-u", "UNIX-LISTEN:" + c, "STDOUT"}, input);
    const std::string d = dir.file(std::string("d") + mode);
    ipckit_to_tool("unix:" + d, mode, {"nc", "-l", "-U", d}, input);
  }
}

TEST(Interop, TcpWithNcAndSocat) {
  for (const char* mode : {"--lines", "--raw"}) {
    const std::string input = std::string(mode) == "--lines" ? lines_input() : raw_input();
    std::string port = std::to_string(free_loopback_port(SOCK_STREAM));
    tool_to_ipckit("tcp:127.0.0.1:" + port, mode, {"nc", "-N", "127.0.0.1", port}, input);
    port = std::to_string(free_loopback_port(SOCK_STREAM));
    tool_to_ipckit("tcp:127.0.0.1:" + port, mode, {"socat", "-u", "STDIN", "TCP:127.0.0.1:" + port}, input);
    port = std::to_string(free_loopback_port(SOCK_STREAM));
    ipckit_to_tool("tcp:127.0.0.1:" + port, mode, {"nc", "-l", "127.0.0.1", port}, input);
    port = std::to_string(free_loopback_port(SOCK_STREAM));
    ipckit_to_tool("tcp:127.0.0.1:" + port, mode,
                   {"socat", "-u", "TCP-LISTEN:" + port + ",bind=127.0.0.1,reuseaddr", "STDOUT"}, input);
  }
}

TEST(Interop, UdpWithSocat) {
  // One datagram each way: a small input is one read for socat, so one datagram.
  for (const char* mode : {"--lines", "--raw"}) {
    const std::string input = std::string(mode) == "--lines" ? "hello\nworld\n" : std::string("\x01\x00\xff raw", 7);
    std::string port = std::to_string(free_loopback_port(SOCK_DGRAM));
    tool_to_ipckit("udp:127.0.0.1:" + port, mode, {"socat", "-u", "STDIN", "UDP-SENDTO:127.0.0.1:" + port}, input,
                   {"--count", "1"});
    const std::string one = std::string(mode) == "--lines" ? "one datagram\n" : input;
    const std::uint16_t p = free_loopback_port(SOCK_DGRAM);
    ipckit_to_tool("udp:127.0.0.1:" + std::to_string(p), mode,
                   {"socat", "-u", "UDP-RECVFROM:" + std::to_string(p) + ",bind=127.0.0.1", "STDOUT"}, one,
                   [p] { wait_udp_bound(p); });
  }
}

}  // namespace
}  // namespace ipckit::test
