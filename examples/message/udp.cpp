// SPDX-License-Identifier: Apache-2.0
// UDP on the IPv4 loopback: the server binds port 0 (the kernel picks one), a child sends a
// datagram and waits for the echo with a deadline, since UDP may lose datagrams.
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>

#include "ipckit/core/io.hpp"
#include "ipckit/message/udp.hpp"

int main() {
  using namespace std::chrono_literals;
  auto server = ipckit::Udp::bind("127.0.0.1", 0, AF_INET);
  if (!server) {
    std::fprintf(stderr, "%s\n", server.error().str().c_str());
    return 1;
  }
  const auto port = server->local_address()->port();
  const pid_t pid = ::fork();
  if (pid == 0) {
    auto client = ipckit::Udp::connect("127.0.0.1", port, AF_INET);
    if (!client || !client->send(ipckit::as_bytes("ping"))) ::_exit(1);
    std::array<std::byte, 16> buf{};
    auto echo = client->receive_until(buf, ipckit::deadline_after(5s));
    if (!echo || echo->status != ipckit::IoStatus::kOk) ::_exit(2);  // lost or timed out
    std::printf("echo: %.*s\n", static_cast<int>(echo->bytes), reinterpret_cast<const char*>(buf.data()));
    std::fflush(stdout);  // _exit() skips stdio's buffers
    ::_exit(0);
  }
  std::array<std::byte, 16> buf{};
  auto got = server->receive_until(buf, ipckit::deadline_after(5s));
  if (got && got->status == ipckit::IoStatus::kOk && !got->truncated) {
    (void)server->send_to(got->from, std::span<const std::byte>(buf.data(), got->bytes));
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
