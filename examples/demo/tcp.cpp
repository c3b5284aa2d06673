// SPDX-License-Identifier: Apache-2.0
// TCP, the tutorials' socket that "can span hosts": a server on a kernel-chosen loopback port serves
// three client processes one connection each (IPv4), then the same over IPv6 ([::1]) where the
// machine has it. Each client sends a line and shuts down its write side (end of stream); the server
// reads to end of stream and answers on the same connection.
#include <signal.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "ipckit/stream/tcp.hpp"
#include "narrate.hpp"

namespace {

int client(const std::string& host, std::uint16_t port, int n) {
  ipckit::TcpOptions options;
  options.nodelay = true;  // small writes leave at once (no Nagle delay)
  auto s = ipckit::Tcp::connect_until(host, port, ipckit::deadline_after(std::chrono::seconds(5)), options);
  if (!s || !*s) {
    std::fprintf(stderr, "%s\n", s ? "connect timed out" : s.error().str().c_str());
    return 1;
  }
  ipckit::StreamSocket& sock = **s;
  const std::string line = "hello from client " + std::to_string(n);
  if (!sock.write_all(line) || !sock.shutdown(ipckit::ShutdownHow::kWrite)) return 2;
  auto reply = sock.read_to_end();
  if (!reply) return 3;
  std::printf("[client %d] connected from %s, sent \"%s\", got back \"%s\"\n", demo::me(),
              sock.local_address() ? sock.local_address()->to_string().c_str() : "?", line.c_str(), reply->c_str());
  return *reply == "ok: " + line ? 0 : 4;
}

// Serves `clients` forked clients on listener; returns true when all were served and exited 0.
bool serve(ipckit::StreamListener& listener, const std::string& host, int clients) {
  const std::uint16_t port = ipckit::or_throw(listener.local_address()).port();
  std::vector<pid_t> pids;
  for (int n = 1; n <= clients; ++n) pids.push_back(demo::fork_child([&, n] { return client(host, port, n); }));
  bool ok = true;
  for (int n = 0; n < clients; ++n) {
    auto conn = listener.accept_until(ipckit::deadline_after(std::chrono::seconds(10)));
    if (!conn || !*conn) {
      std::fprintf(stderr, "%s\n", conn ? "no client connected" : conn.error().str().c_str());
      ok = false;
      break;
    }
    auto line = (*conn)->read_to_end();  // the client's shutdown(SHUT_WR) ends it
    if (!line) return false;
    std::printf("[server] connection %d from %s: \"%s\"\n", n + 1,
                (*conn)->peer_address() ? (*conn)->peer_address()->to_string().c_str() : "?", line->c_str());
    ok = (*conn)->write_all("ok: " + *line).has_value() && ok;
  }
  if (!ok) {
    for (const pid_t pid : pids) ::kill(pid, SIGTERM);  // clients never accepted would wait for a reply
  }
  for (const pid_t pid : pids) ok = demo::child_ok(pid) && ok;
  return ok;
}

}  // namespace

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // narration reaches a pipe line by line
  auto v4 = ipckit::Tcp::listen("127.0.0.1", 0);  // port 0: the kernel picks a free one
  if (!v4) {
    std::fprintf(stderr, "%s\n", v4.error().str().c_str());
    return 1;
  }
  std::printf("[server] listening on %s (IPv4), 3 clients\n", v4->local_address()->to_string().c_str());
  if (!serve(*v4, "127.0.0.1", 3)) return 1;

  auto v6 = ipckit::Tcp::listen("::1", 0);
  if (!v6) {
    // Not every machine (or container) has IPv6 loopback: say so and stop here.
    std::printf("[server] IPv6 loopback is not available here (%s): skipped\n", v6.error().str().c_str());
    return 0;
  }
  std::printf("[server] listening on %s (IPv6), 2 clients\n", v6->local_address()->to_string().c_str());
  return serve(*v6, "::1", 2) ? 0 : 1;
}
