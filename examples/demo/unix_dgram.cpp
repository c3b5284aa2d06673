// SPDX-License-Identifier: Apache-2.0
// UNIX datagram and seqpacket sockets: messages keep their boundaries on the local machine, and
// nothing is lost or reordered (unlike UDP). A datagram server bound to an abstract name (no file to
// remove) answers a client process that is bound too, so that it has an address to be answered at;
// then a seqpacket connection: boundaries like a datagram, a connection like a stream (the peer's
// close is an end of stream).
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>

#include "ipckit/core/io.hpp"
#include "ipckit/message/unix_datagram.hpp"
#include "narrate.hpp"

namespace {

std::string text(const std::array<std::byte, 64>& buf, std::size_t n) {
  return std::string(reinterpret_cast<const char*>(buf.data()), n);
}

bool datagrams(const std::string& name) {
  auto server = ipckit::UnixDatagram::bind(name);
  if (!server) {
    std::fprintf(stderr, "%s\n", server.error().str().c_str());
    return false;
  }
  std::printf("[server %d] datagram socket bound to %s (abstract: no socket file)\n", demo::me(), name.c_str());
  const pid_t pid = demo::fork_child([&]() -> int {
    auto client = ipckit::UnixDatagram::connect(name, name + "-client");
    if (!client) return 1;
    std::array<std::byte, 64> buf{};
    for (const char* q : {"time?", "load average?"}) {
      if (!client->send(ipckit::as_bytes(std::string(q)))) return 2;
      auto reply = client->receive_until(buf, ipckit::deadline_after(std::chrono::seconds(5)));
      if (!reply || reply->status != ipckit::IoStatus::kOk) return 3;
      std::printf("[client %d] asked \"%s\", got \"%s\"\n", demo::me(), q, text(buf, reply->bytes).c_str());
    }
    return 0;
  });
  std::array<std::byte, 64> buf{};
  bool ok = pid > 0;
  for (int i = 0; ok && i < 2; ++i) {
    auto req = server->receive_until(buf, ipckit::deadline_after(std::chrono::seconds(5)));
    if (!req || req->status != ipckit::IoStatus::kOk) {
      ok = false;
      break;
    }
    std::printf("[server %d] one datagram of %zu bytes from %s\n", demo::me(), req->bytes,
                req->from.to_string().c_str());
    ok = server->send_to(req->from, ipckit::as_bytes("answer to " + text(buf, req->bytes))).has_value();
  }
  return demo::child_ok(pid) && ok;
}

bool seqpacket(const std::string& name) {
  auto listener = ipckit::SeqPacketListener::listen(name);
  if (!listener) {
    std::fprintf(stderr, "%s\n", listener.error().str().c_str());
    return false;
  }
  std::printf("[server %d] seqpacket socket listening on %s\n", demo::me(), name.c_str());
  const pid_t pid = demo::fork_child([&]() -> int {
    auto conn = ipckit::UnixDatagram::connect_seqpacket(name);
    if (!conn) return 1;
    for (const char* m : {"first record", "second, longer record", "3"}) {
      if (!conn->send(ipckit::as_bytes(std::string(m)))) return 2;
    }
    std::printf("[client %d] sent 3 records and closed the connection\n", demo::me());
    return 0;  // closing the socket is the end of stream
  });
  auto conn = listener->accept_until(ipckit::deadline_after(std::chrono::seconds(5)));
  bool ok = pid > 0 && conn.has_value() && conn->has_value();
  std::array<std::byte, 64> buf{};
  int records = 0;
  while (ok) {
    auto m = (*conn)->receive_until(buf, ipckit::deadline_after(std::chrono::seconds(5)));
    if (!m || m->status == ipckit::IoStatus::kTimedOut) {
      ok = false;
    } else if (m->status == ipckit::IoStatus::kEndOfStream) {
      std::printf("[server %d] end of stream after %d records: the client closed\n", demo::me(), records);
      break;
    } else {
      ++records;
      std::printf("[server %d] record %d: \"%s\" (one receive, one whole record)\n", demo::me(), records,
                  text(buf, m->bytes).c_str());
    }
  }
  return demo::child_ok(pid) && ok && records == 3;
}

}  // namespace

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // narration reaches a pipe line by line
  const std::string base = "@ipckit.demo.unix_dgram." + std::to_string(::getpid());
  const bool ok = datagrams(base) && seqpacket(base + ".seq");
  return ok ? 0 : 1;
}
