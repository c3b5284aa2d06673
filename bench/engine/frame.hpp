// SPDX-License-Identifier: Apache-2.0
// The verified benchmark message (docs/design.md, "Measuring").
//
// Every message is one frame of exactly the benchmarked size: a 24-byte header (sequence number,
// length, flags, 64-bit xxh3 of the payload seeded with the sequence number) followed by payload
// bytes copied from a pseudo-random pool at an offset that moves with the sequence number, so no two
// consecutive payloads are equal. The sender fills and hashes; the receiver re-hashes and compares.
// Baselines do the same work so ratios compare like with like. xxh3 is inlined (XXH_INLINE_ALL):
// called through the shared library it cost a third more on 64-byte messages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace ipckit::bench {

inline constexpr std::size_t kFrameHeader = 24;
// The smallest size a benchmark accepts: the header itself.
inline constexpr std::size_t kMinMessage = kFrameHeader;
// Frame flag: the sender's last frame (message mechanisms have no end-of-stream of their own).
inline constexpr std::uint32_t kFlagEnd = 1;

struct FrameHeader {
  std::uint64_t seq;
  std::uint32_t length;  // the whole frame, header included
  std::uint32_t flags;
  std::uint64_t hash;    // XXH3_64bits_withSeed(payload, length - 24, seq)
};
static_assert(sizeof(FrameHeader) == kFrameHeader);

enum class FrameCheck { kOk, kEnd, kBadLength, kBadSeq, kBadHash };
[[nodiscard]] const char* to_string(FrameCheck check) noexcept;

// A pool of pseudo-random bytes that frames copy their payload from. Read-only after construction,
// so a forked child can use the parent's copy.
class PayloadSource {
 public:
  static constexpr std::size_t kSpread = 4096;
  explicit PayloadSource(std::size_t max_size);

  // Writes a complete frame of `size` (>= kFrameHeader) bytes at dst. Never fails.
  void fill(std::byte* dst, std::size_t size, std::uint64_t seq, std::uint32_t flags = 0) const noexcept {
    const std::size_t n = size - kFrameHeader;
    std::memcpy(dst + kFrameHeader, pool_.data() + ((seq * 64) % kSpread), n);
    const FrameHeader h{seq, static_cast<std::uint32_t>(size), flags,
                        XXH3_64bits_withSeed(dst + kFrameHeader, n, seq)};
    std::memcpy(dst, &h, sizeof h);
  }

 private:
  std::vector<std::byte> pool_;
};

// Reads the header of a frame (no checks).
inline FrameHeader read_header(const std::byte* src) noexcept {
  FrameHeader h;
  std::memcpy(&h, src, sizeof h);
  return h;
}

// Checks a frame of `got` bytes against the expected size and sequence number. The hash is checked
// for end frames too, so a torn end frame is not mistaken for a clean end.
inline FrameCheck check_frame(const std::byte* src, std::size_t got, std::size_t size,
                              std::uint64_t expected_seq) noexcept {
  if (got != size || got < kFrameHeader) return FrameCheck::kBadLength;
  const FrameHeader h = read_header(src);
  if (h.length != size) return FrameCheck::kBadLength;
  if (h.seq != expected_seq) return FrameCheck::kBadSeq;
  if (XXH3_64bits_withSeed(src + kFrameHeader, size - kFrameHeader, h.seq) != h.hash) return FrameCheck::kBadHash;
  return (h.flags & kFlagEnd) ? FrameCheck::kEnd : FrameCheck::kOk;
}

// Checks a frame whose sequence number the receiver cannot predict (several producers share one
// queue, each consumer sees a subset): the length and the hash, which is seeded with the sequence
// number, so a frame's `seq` is as verified as its payload. Stores the sequence number in `seq`.
inline FrameCheck check_frame_unordered(const std::byte* src, std::size_t got, std::size_t size,
                                        std::uint64_t& seq) noexcept {
  if (got != size || got < kFrameHeader) return FrameCheck::kBadLength;
  const FrameHeader h = read_header(src);
  if (h.length != size) return FrameCheck::kBadLength;
  if (XXH3_64bits_withSeed(src + kFrameHeader, size - kFrameHeader, h.seq) != h.hash) return FrameCheck::kBadHash;
  seq = h.seq;
  return (h.flags & kFlagEnd) ? FrameCheck::kEnd : FrameCheck::kOk;
}

// A well-mixed 64-bit value per sequence number (the splitmix64 finalizer, a bijection): senders and
// receivers add it up (SideStats::digest), and equal sums mean the same set of frames with high
// probability, whichever consumer received which frame.
inline constexpr std::uint64_t frame_digest(std::uint64_t seq) noexcept {
  std::uint64_t z = seq + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace ipckit::bench
