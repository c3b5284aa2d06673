// SPDX-License-Identifier: Apache-2.0
// Byte stream versus message boundaries: three writes into a pipe arrive as one undelimited run of
// bytes (a read takes whatever is there), while three sends on a datagram socket arrive as three
// messages, one per receive; a message longer than the buffer is cut, not split.
#include <cstdio>
#include <span>
#include <string>
#include <string_view>

#include "ipckit/message/unix_datagram.hpp"
#include "ipckit/stream/pipe.hpp"

static std::span<const std::byte> bytes(std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); }

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // narration reaches a pipe line by line
  const std::string_view parts[] = {"ONE", "TWO", "THREE"};

  auto pipe = ipckit::Pipe::create();
  if (!pipe) {
    std::fprintf(stderr, "%s\n", pipe.error().str().c_str());
    return 1;
  }
  for (auto p : parts) {
    auto w = pipe->writer.write_all(p);
    if (!w || !w->ok()) return 1;
  }
  std::printf("[pipe] three write()s: \"ONE\", \"TWO\", \"THREE\" (11 bytes)\n");
  char buf[64];
  auto r = pipe->reader.read_some(std::as_writable_bytes(std::span(buf)));
  if (!r) return 1;
  std::printf("[pipe] one read() of up to 64 bytes got %zu bytes: \"%.*s\" (a byte stream: no boundaries)\n",
              r->bytes, static_cast<int>(r->bytes), buf);
  const bool merged = r->bytes == 11;

  auto dgram = ipckit::UnixDatagram::pair(ipckit::UnixMessageKind::kDatagram);
  if (!dgram) {
    std::fprintf(stderr, "%s\n", dgram.error().str().c_str());
    return 1;
  }
  auto& [a, b] = *dgram;
  for (auto p : parts) {
    auto s = a.send(bytes(p));
    if (!s || *s != ipckit::IoStatus::kOk) return 1;
  }
  std::printf("[datagram] socketpair(AF_UNIX, SOCK_DGRAM): three send()s of the same strings\n");
  int messages = 0;
  for (int i = 0; i < 3; ++i) {
    auto m = b.receive(std::as_writable_bytes(std::span(buf)));
    if (!m || m->status != ipckit::IoStatus::kOk) return 1;
    std::printf("[datagram] receive #%d got one message of %zu bytes: \"%.*s\"\n", i + 1, m->bytes,
                static_cast<int>(m->bytes), buf);
    messages += m->bytes == parts[i].size() ? 1 : 0;
  }
  auto s = a.send(bytes("a message of 34 bytes, buffer of 8"));
  if (!s) return 1;
  auto cut = b.receive(std::as_writable_bytes(std::span(buf, 8)));
  if (!cut) return 1;
  std::printf("[datagram] a %zu-byte message into an 8-byte buffer: got %zu bytes, truncated=%s (the rest is gone)\n",
              cut->full_size, cut->bytes, cut->truncated ? "yes" : "no");
  return merged && messages == 3 && cut->truncated ? 0 : 1;
}
