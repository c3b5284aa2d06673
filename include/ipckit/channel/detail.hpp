// SPDX-License-Identifier: Apache-2.0
// Internal types shared by the three patterns' endpoints (SPSC, MPMC, broadcast) and their
// implementation in src/channel: the fork generation, the peer watch and the mapped channel object.
// Not part of the API; they are in a public header only because the endpoints hold them by value.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#include "ipckit/channel/layout.hpp"
#include "ipckit/core/mapping.hpp"
#include "ipckit/core/unique_fd.hpp"
#include "ipckit/export.hpp"

namespace ipckit {
namespace detail {
// Bumped in the child by a pthread_atfork handler (src/channel/segment.cpp): an endpoint whose
// remembered value differs was inherited through fork().
IPCKIT_API extern std::atomic<std::uint64_t> g_fork_generation;

enum class HolderState { kFree, kAlive, kDead, kUnknown };

// Watches the holder of a peer's role cheaply: after one full check (pid + start time + pid-ns
// from /proc) it keeps a pidfd for that exact process, so later checks are one poll() (kernels
// without pidfd_open fall back to the full check). Used by waits every liveness_interval, so an
// idle blocking receiver stays far below 1 ms of CPU per 10 s.
class IPCKIT_API PeerWatch {
 public:
  [[nodiscard]] HolderState check(channel_layout::RoleSlot& slot, std::uint64_t claim) noexcept;

 private:
  UniqueFd pidfd_;
  std::uint64_t claim_ = 0;
};

// The mapped object shared by both endpoint types (src/channel/segment.cpp).
struct ChannelMap {
  Mapping mapping;
  channel_layout::Header* header = nullptr;
  std::byte* ring = nullptr;
  std::uint64_t capacity = 0;
  std::uint64_t max_message = 0;
  std::string name;
};
}  // namespace detail
}  // namespace ipckit
