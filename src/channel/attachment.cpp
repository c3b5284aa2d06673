// SPDX-License-Identifier: Apache-2.0
// The endpoint core (include/ipckit/channel/attachment.hpp).
#include "ipckit/channel/attachment.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "ipckit/core/name.hpp"
#include "segment.hpp"

namespace ipckit::detail {

Attachment::Attachment(ChannelMap&& m, const ChannelOptions& o, std::uint64_t claim_value, bool took_over) noexcept
    : map(std::move(m)),
      options(o),
      claim(claim_value),
      fork_generation(detail::fork_generation()),
      reclaimed(took_over),
      next_check(Clock::now() + o.liveness_interval) {}

Attachment::Attachment(Attachment&& other) noexcept
    : map(std::move(other.map)),
      options(other.options),
      claim(std::exchange(other.claim, 0)),
      fork_generation(other.fork_generation),
      reclaimed(other.reclaimed),
      next_check(other.next_check),
      peer(std::move(other.peer)) {
  // The Mapping moved; the raw views into it must not survive in the source.
  other.map.header = nullptr;
  other.map.ring = nullptr;
}

Attachment& Attachment::operator=(Attachment&& other) noexcept {
  if (this == &other) return *this;
  map = std::move(other.map);
  other.map.header = nullptr;
  other.map.ring = nullptr;
  options = other.options;
  claim = std::exchange(other.claim, 0);
  fork_generation = other.fork_generation;
  reclaimed = other.reclaimed;
  next_check = other.next_check;
  peer = std::move(other.peer);
  return *this;
}

Error Attachment::unusable_error(const char* call, const char* role) const {
  if (!attached()) {
    return Error::library(LibraryCode::kInvalidArgument, call, "", fmt::format("the {} is closed", role));
  }
  return Error::library(LibraryCode::kRoleTaken, call, quoted(map.name),
                        fmt::format("this {} endpoint was inherited through fork(); its role belongs to the "
                                    "parent: open a new endpoint in the child",
                                    role));
}

bool Attachment::liveness_due(bool force) noexcept {
  const auto now = Clock::now();
  if (!force && now < next_check) return false;
  next_check = now + options.liveness_interval;
  return true;
}

Clock::duration Attachment::sleep_slice(Deadline deadline) const noexcept {
  const auto now = Clock::now();
  Clock::duration t = options.liveness_interval;
  if (next_check > now) t = std::min<Clock::duration>(t, next_check - now);
  if (deadline != kNoDeadline) t = std::min<Clock::duration>(t, deadline - now);
  return t;
}

void Attachment::detach() noexcept {
  map.mapping.reset();
  map.header = nullptr;
  map.ring = nullptr;
  map.token.reset();
  claim = 0;
  peer.reset();
}

ChannelStatus PeerLiveness::status(channel_layout::RoleSlot& slot, Attachment& at, bool force) noexcept {
  // acquire: pairs with the release CAS of the claim (claim_role/release_role): a peer's `closed`
  // and its last indices happen-before we see its claim change.
  const std::uint64_t claim = aref(slot.claim).load(std::memory_order_acquire);
  if (claim == 0) {
    return aref(slot.closed).load(std::memory_order_relaxed) != 0 && session_reached(slot, first_session_)
               ? ChannelStatus::kPeerClosed
               : ChannelStatus::kOk;
  }
  if (claim == dead_claim_) return ChannelStatus::kPeerDied;
  if (!at.liveness_due(force)) return ChannelStatus::kOk;
  if (holder_state(at.map, slot, claim) == HolderState::kDead && session_reached(slot, first_session_)) {
    dead_claim_ = claim;
    return ChannelStatus::kPeerDied;
  }
  return ChannelStatus::kOk;
}

}  // namespace ipckit::detail
