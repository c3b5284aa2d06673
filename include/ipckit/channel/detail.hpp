// SPDX-License-Identifier: Apache-2.0
// Internal types shared by the three patterns' endpoints (SPSC, MPMC, broadcast) and their
// implementation in src/channel: the fork generation, the liveness-token description and the mapped channel object.
// Not part of the API; they are in a public header only because the endpoints hold them by value.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

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

// One open file description of a channel object of this endpoint's own, on which it holds its
// liveness token (an OFD lock on one byte, src/channel/token.cpp; docs/channel.md "Liveness") and
// tests its peers'. Opened through /proc/self/fd, so no other process shares the description: not
// a peer that was handed the same memfd, and not a child forked later (the fork handler gives the
// child a fresh description under the same number, so a child cannot keep a dead parent's token
// held). Move-only; closing it releases every token held on it.
class IPCKIT_API TokenFd {
 public:
  TokenFd() = default;
  // Takes ownership of `fd` (a description of our own) and registers it for the fork handler.
  explicit TokenFd(int fd) noexcept;
  TokenFd(TokenFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  TokenFd& operator=(TokenFd&& other) noexcept;
  TokenFd(const TokenFd&) = delete;
  TokenFd& operator=(const TokenFd&) = delete;
  ~TokenFd() { reset(); }
  [[nodiscard]] int get() const noexcept { return fd_; }
  [[nodiscard]] bool valid() const noexcept { return fd_ >= 0; }
  // Unregisters and closes (releasing the tokens held on it).
  void reset() noexcept;

 private:
  int fd_ = -1;
};

// The mapped object shared by both endpoint types (src/channel/segment.cpp).
struct ChannelMap {
  Mapping mapping;
  channel_layout::Header* header = nullptr;
  std::byte* ring = nullptr;
  std::uint64_t capacity = 0;
  std::uint64_t max_message = 0;
  std::string name;
  TokenFd token;  // this endpoint's own description of the object: its token and its peers' tests
  bool created = false;  // this open created the object (its companions must be new too)
};
}  // namespace detail
}  // namespace ipckit
