// SPDX-License-Identifier: Apache-2.0
// Verified test messages for the channel tests: the size and bytes of message `seq` are a pure
// function of (seed, seq), and the first 16 bytes carry seq and an xxh3 of the rest, so a receiver
// detects gaps, reordering, wrong lengths and torn payloads.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace ipckit::test {

inline std::uint64_t splitmix(std::uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

inline constexpr std::size_t kMinCheckedSize = 16;

// Size of message `seq`: uniform in [16, max].
inline std::size_t message_size(std::uint64_t seed, std::uint64_t seq, std::size_t max) noexcept {
  return kMinCheckedSize + splitmix(seed ^ (seq * 0x2545f4914f6cdd1dULL)) % (max - kMinCheckedSize + 1);
}

// Fills `out` (of message_size bytes) with message `seq`.
inline void fill_message(std::uint64_t seed, std::uint64_t seq, std::span<std::byte> out) noexcept {
  std::uint64_t x = splitmix(seed + seq);
  for (std::size_t i = kMinCheckedSize; i < out.size(); i += 8) {
    x = splitmix(x);
    std::memcpy(out.data() + i, &x, std::min<std::size_t>(8, out.size() - i));
  }
  const std::uint64_t h = XXH3_64bits(out.data() + kMinCheckedSize, out.size() - kMinCheckedSize);
  std::memcpy(out.data(), &seq, 8);
  std::memcpy(out.data() + 8, &h, 8);
}

// The sequence number of a message, or ~0 when its length or hash is wrong.
inline std::uint64_t check_message(std::span<const std::byte> in) noexcept {
  if (in.size() < kMinCheckedSize) return ~std::uint64_t{0};
  std::uint64_t seq = 0, h = 0;
  std::memcpy(&seq, in.data(), 8);
  std::memcpy(&h, in.data() + 8, 8);
  if (XXH3_64bits(in.data() + kMinCheckedSize, in.size() - kMinCheckedSize) != h) return ~std::uint64_t{0};
  return seq;
}

}  // namespace ipckit::test
