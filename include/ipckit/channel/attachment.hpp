// SPDX-License-Identifier: Apache-2.0
// Internal: the one endpoint core of the channel's three patterns (docs/channel.md "The endpoint
// core"). Every endpoint (SPSC producer and consumer, MPMC member, broadcast publisher and
// subscriber) holds one Attachment; the ends with one peer (SPSC, broadcast subscriber) hold a
// PeerLiveness for it. Not part of the API; in a public header only because endpoints hold them by
// value.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

#include "ipckit/channel/detail.hpp"
#include "ipckit/channel/layout.hpp"
#include "ipckit/channel/options.hpp"
#include "ipckit/core/deadline.hpp"
#include "ipckit/core/error.hpp"
#include "ipckit/export.hpp"

namespace ipckit::detail {

struct Attachment;

// The one peer of an SPSC end or of a broadcast subscriber, seen through the peer's role slot:
// whether it may still act, closed or died, and only for ends of this endpoint's own session
// (docs/channel.md "Sessions"). Judged by the holder's liveness token (docs/channel.md "Liveness");
// a dead claim is remembered, so its token is not tested again.
class IPCKIT_API PeerLiveness {
 public:
  // The first peer session whose end is ours (detail::first_session() at attach).
  void start(std::uint64_t first_session) noexcept { first_session_ = first_session; }
  // kOk while the holder of `slot` may still act, or while the end it records belongs to a session
  // before ours; kPeerClosed when it closed; kPeerDied when found dead (checked when
  // at.liveness_due(force)).
  [[nodiscard]] ChannelStatus status(channel_layout::RoleSlot& slot, Attachment& at, bool force) noexcept;
  // Forgets the claim found dead (close()).
  void reset() noexcept { dead_claim_ = 0; }

 private:
  std::uint64_t dead_claim_ = 0;     // the claim last found dead
  std::uint64_t first_session_ = 0;
};

// What every endpoint holds: the mapped object, its claim on a role or member slot (0 for a
// broadcast subscriber, whose record is its own object), the fork generation it was opened in, its
// options, its liveness timer and (ends with one peer) that peer's liveness. Moving it leaves the
// source detached (no header), so endpoints move member-wise (replace_endpoint()) and a moved-from
// endpoint is simply closed.
struct IPCKIT_API Attachment {
  ChannelMap map;
  ChannelOptions options;
  std::uint64_t claim = 0;
  std::uint64_t fork_generation = 0;
  bool reclaimed = false;              // the claim took the role over from a dead holder
  Clock::time_point next_check{};      // when the peer(s) are next checked for liveness
  PeerLiveness peer;  // the one peer of an SPSC end or a subscriber (MPMC and the publisher watch many)

  Attachment() = default;
  // Attached now, in this process (fork generation and timer start here).
  Attachment(ChannelMap&& m, const ChannelOptions& o, std::uint64_t claim_value, bool took_over) noexcept;
  Attachment(Attachment&& other) noexcept;
  Attachment& operator=(Attachment&& other) noexcept;
  Attachment(const Attachment&) = delete;
  Attachment& operator=(const Attachment&) = delete;
  ~Attachment() = default;

  [[nodiscard]] bool attached() const noexcept { return map.header != nullptr; }
  // Opened in this process: false in a forked child, where the role is the parent's.
  [[nodiscard]] bool ours() const noexcept {
    return fork_generation == g_fork_generation.load(std::memory_order_relaxed);
  }
  // Attached and ours: what every operation checks first.
  [[nodiscard]] bool usable() const noexcept { return attached() && ours(); }
  // Why an endpoint that is not usable() refuses `call`: kInvalidArgument when closed, kRoleTaken
  // when inherited through fork(). `role`: "producer", "MPMC consumer", "subscriber", ...
  [[nodiscard]] Error unusable_error(const char* call, const char* role) const;
  // True at most once per liveness_interval (always when `force`): the caller checks its peer(s)
  // now. Reads the clock (vDSO, no syscall).
  [[nodiscard]] bool liveness_due(bool force) noexcept;
  // How long a wait may sleep now: until the deadline or the next liveness check, whichever is
  // first, and never longer than liveness_interval (a check already due does not shorten it).
  [[nodiscard]] Clock::duration sleep_slice(Deadline deadline) const noexcept;
  // peer.status() with this attachment's timer: kOk, kPeerClosed or kPeerDied (PeerLiveness).
  [[nodiscard]] ChannelStatus peer_status(channel_layout::RoleSlot& slot, bool force) noexcept {
    return peer.status(slot, *this, force);
  }
  // Unmaps, closes the token description (releasing any token still held on it) and forgets the
  // claim; the endpoint released what it holds first.
  void detach() noexcept;
};

// Move assignment of every endpoint: destroys `self` (its destructor closes it: flush, release the
// role, wake the peer) and move-constructs it anew from `other` (the defaulted member-wise move,
// which leaves `other` detached through its Attachment). One definition instead of a hand-written
// field list per endpoint, which drifted (one once left two fields behind). Endpoints are final, so
// `self` is a complete object and transparently replaceable.
template <class Endpoint>
Endpoint& replace_endpoint(Endpoint& self, Endpoint&& other) noexcept {
  static_assert(std::is_final_v<Endpoint> && std::is_nothrow_move_constructible_v<Endpoint>);
  if (&self != &other) {
    std::destroy_at(&self);
    std::construct_at(&self, std::move(other));
  }
  return *std::launder(&self);
}

}  // namespace ipckit::detail
