// SPDX-License-Identifier: Apache-2.0
// A UNIX datagram server on an abstract address (no file to clean up) answers a child's requests;
// each receive returns exactly one message.
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <string>

#include "ipckit/core/io.hpp"
#include "ipckit/message/unix_datagram.hpp"

int main() {
  const std::string server_name = "@ipckit-example-dgram-" + std::to_string(::getpid());
  auto server = ipckit::UnixDatagram::bind(server_name);
  if (!server) {
    std::fprintf(stderr, "%s\n", server.error().str().c_str());
    return 1;
  }
  const pid_t pid = ::fork();
  if (pid == 0) {
    // Bound too (abstract), so the server has an address to answer to.
    auto client = ipckit::UnixDatagram::connect(server_name, server_name + "-client");
    if (!client) ::_exit(1);
    std::array<std::byte, 64> buf{};
    for (const char* q : {"time?", "load?"}) {
      if (!client->send(ipckit::as_bytes(q))) ::_exit(2);
      auto reply = client->receive(buf);
      if (!reply || reply->status != ipckit::IoStatus::kOk) ::_exit(3);
      std::printf("child got: %.*s\n", static_cast<int>(reply->bytes), reinterpret_cast<const char*>(buf.data()));
    }
    std::fflush(stdout);  // _exit() skips stdio's buffers
    ::_exit(0);
  }
  std::array<std::byte, 64> buf{};
  for (int i = 0; i < 2; ++i) {
    auto req = server->receive(buf);
    if (!req) return 1;
    const std::string question(reinterpret_cast<const char*>(buf.data()), req->bytes);
    const std::string answer = "answer to " + question;
    if (!server->send_to(req->from, ipckit::as_bytes(answer))) return 1;
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
