// SPDX-License-Identifier: Apache-2.0
// Fuzzes FrameDecoder, which reads untrusted bytes from any peer of a byte stream.
//
// Input: byte 0 picks the framing and the maximum message size, byte 1 seeds the split points; the
// rest is the stream, fed in pieces. Checked: no crash, no over-limit message, no allocation beyond
// the limit (ASan's allocator would report it), errors are sticky, and for kLength every decoded
// message re-encodes to exactly the bytes it consumed.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ipckit/core/io.hpp"
#include "ipckit/endpoint/framing.hpp"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using ipckit::Framing;
  if (size < 2) return 0;
  const Framing framing = static_cast<Framing>(data[0] % 3);
  const std::size_t max = std::size_t{1} << ((data[0] >> 2) % 21);  // 1 B .. 1 MiB
  unsigned split = data[1];
  const std::string_view stream(reinterpret_cast<const char*>(data + 2), size - 2);

  ipckit::FrameDecoder dec(framing, max, "fuzz");
  std::string reencoded;
  std::size_t pos = 0;
  bool failed = false;
  while (pos < stream.size() && !failed) {
    split = split * 1103515245u + 12345u;
    const std::size_t n = std::min<std::size_t>(stream.size() - pos, 1 + (split >> 16) % 64);
    dec.feed(stream.substr(pos, n));
    pos += n;
    for (;;) {
      auto m = dec.next();
      if (!m) {
        failed = true;
        check(!dec.next().has_value());  // a failed decoder stays failed
        break;
      }
      if (!*m) break;
      if (framing != Framing::kRaw) check((*m)->size() <= max);
      if (framing == Framing::kLines) check((*m)->find('\n') == std::string::npos);
      if (framing == Framing::kLength) {
        check(ipckit::encode_frame(framing, ipckit::as_bytes(**m), max, reencoded).has_value());
      }
    }
  }
  if (!failed) {
    auto last = dec.finish();
    if (last && *last && framing != Framing::kRaw) check((*last)->size() <= max);
    if (framing == Framing::kLength && last) {
      // Everything consumed was whole frames: re-encoding gives the stream back exactly, up to and
      // including the end-of-stream frame when there was one (what follows it is ignored).
      if (dec.ended()) {
        ipckit::encode_end_frame(reencoded);
        check(stream.substr(0, reencoded.size()) == reencoded);
      } else {
        check(reencoded == stream);
      }
    }
  }
  return 0;
}
