// SPDX-License-Identifier: Apache-2.0
#include "engine/frame.hpp"

#include <algorithm>

namespace ipckit::bench {

const char* to_string(FrameCheck check) noexcept {
  switch (check) {
    case FrameCheck::kOk: return "ok";
    case FrameCheck::kEnd: return "end";
    case FrameCheck::kBadLength: return "wrong length";
    case FrameCheck::kBadSeq: return "sequence gap";
    case FrameCheck::kBadHash: return "hash mismatch";
  }
  return "?";
}

PayloadSource::PayloadSource(std::size_t max_size) : pool_(max_size + kSpread) {
  // splitmix64: fast, deterministic, and every byte differs from its neighbours.
  std::uint64_t x = 0x9e3779b97f4a7c15ULL;
  for (std::size_t i = 0; i < pool_.size(); i += 8) {
    x += 0x9e3779b97f4a7c15ULL;
    std::uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    std::memcpy(pool_.data() + i, &z, std::min<std::size_t>(8, pool_.size() - i));
  }
}

}  // namespace ipckit::bench
