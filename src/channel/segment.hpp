// SPDX-License-Identifier: Apache-2.0
// Internal: the channel's shared-memory object (create/open/validate), role claims, futex waits.
// Kept inside src/channel so the channel does not depend on the general POSIX shm type.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string_view>

#include "ipckit/channel/inspect.hpp"
#include "ipckit/channel/layout.hpp"
#include "ipckit/channel/options.hpp"
#include "ipckit/channel/detail.hpp"
#include "ipckit/core/deadline.hpp"
#include "ipckit/core/liveness.hpp"
#include "ipckit/core/open_mode.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/core/unique_fd.hpp"
#include "wait.hpp"

namespace ipckit::detail {

template <class T>
[[nodiscard]] inline std::atomic_ref<T> aref(T& v) noexcept {
  return std::atomic_ref<T>(v);
}

// type_hash value that accepts a channel of any message type (monitors).
inline constexpr std::uint64_t kAnyType = ~std::uint64_t{0};

// Creates or opens the object and validates its header (magic, version, sizes, type hash, size
// of the object, pattern: opening a channel of another pattern is kUnsupported naming both).
// `read_only`: the object is opened O_RDONLY and mapped PROT_READ (broadcast subscribers), except
// that a creator initialises the header through a temporary writable mapping first.
// `pattern_word`: a creator stores it in Immutable::reserved[0] (broadcast: the policy).
// An existing object must pass check_fd_owner(options.mode, options.trust) unless `monitor` (a
// read-only look at counters, which trusts nothing it reads).
[[nodiscard]] Result<ChannelMap> open_segment(std::string_view name, OpenMode mode,
                                              const ChannelOptions& options, std::uint64_t type_hash,
                                              std::uint32_t pattern = channel_layout::kPatternSpsc,
                                              bool read_only = false, std::uint64_t pattern_word = 0,
                                              bool monitor = false);

// Writes the header of a new, zero-filled object of kHeaderSize + o.capacity bytes behind `fd`
// (sizes already validated), sets `ready` last, and maps it. `flags`: channel_layout::Flags.
// `pattern`, `read_only`, `pattern_word`: as open_segment.
[[nodiscard]] Result<ChannelMap> initialise(std::string_view name, int fd, const ChannelOptions& o,
                                            std::uint64_t type_hash, std::uint32_t flags,
                                            std::uint32_t pattern = channel_layout::kPatternSpsc,
                                            bool read_only = false, std::uint64_t pattern_word = 0);
// Maps an initialised object behind `fd` (a memfd handed over by a peer), validating the header
// and the size as open_segment does. `name` is how errors name it.
[[nodiscard]] Result<ChannelMap> open_fd_segment(std::string_view name, int fd, std::uint64_t type_hash);
// Maps the initialised channel behind `fd` read-only for inspection, whatever its pattern (stored
// in `pattern`); validates header and size as open_segment does.
[[nodiscard]] Result<ChannelMap> map_for_inspection(std::string_view name, int fd, std::uint32_t& pattern);
// "spsc", "mpmc", "broadcast", "unknown".
[[nodiscard]] const char* pattern_text(std::uint32_t pattern) noexcept;
// The participant recorded in `slot` (role name `role`), or nullopt when the slot is free.
[[nodiscard]] std::optional<ChannelParticipant> describe_slot(const ChannelMap& map, channel_layout::RoleSlot& slot,
                                                              const char* role) noexcept;
// The pattern-specific parts of inspect_channel() (src/channel/inspect.cpp): MPMC members and their
// counters (mpmc.cpp), broadcast publisher, subscriber records and `.ctl` (broadcast_objects.cpp).
void inspect_mpmc(ChannelMap& map, ChannelInfo& out);
void inspect_broadcast(ChannelMap& map, ChannelInfo& out);
[[nodiscard]] bool is_control_magic(std::uint64_t magic) noexcept;
[[nodiscard]] bool is_subscriber_magic(std::uint64_t magic) noexcept;

// Validates capacity/max_message for a new channel (errors name `name`).
[[nodiscard]] Result<void> validate_creation(std::string_view name, const ChannelOptions& o);

// Incremented in the child after every fork(): an endpoint remembers the value it was opened with
// and refuses to work in a forked child (which would be a second producer/consumer).
[[nodiscard]] std::uint64_t fork_generation() noexcept;

// Whether the holder of `slot` (claim value `claim`) of the object `map` lives: its liveness token
// (src/channel/token.hpp), tested on map.token. One fcntl(): slow path only.
[[nodiscard]] HolderState holder_state(const ChannelMap& map, channel_layout::RoleSlot& slot,
                                       std::uint64_t claim) noexcept;

// The claim word of a session: the holder's pid in the low half (for messages), the session's
// number (RoleSlot::claims after the claim) in the high half, so two sessions of equal pids (a pid
// reused by the successor) never have equal claims.
[[nodiscard]] std::uint64_t make_claim(const ProcessIdentity& who, std::uint64_t session) noexcept;
// The claim this process would make on `slot` now (its next session), for the token holder only.
[[nodiscard]] std::uint64_t next_claim(channel_layout::RoleSlot& slot, const ProcessIdentity& who) noexcept;
// CAS `slot.claim` from `expected` (0: free, or the claim of a holder found dead) to `mine`, then
// publish `self` as the holder. False when the claim changed meanwhile.
[[nodiscard]] bool try_claim_slot(channel_layout::RoleSlot& slot, std::uint64_t expected, std::uint64_t mine,
                                  const ProcessIdentity& self, WaitStrategy wait) noexcept;

struct ClaimResult {
  std::uint64_t claim = 0;
  bool reclaimed = false;
};
// Claims `slot` for this process ("producer"/"consumer" in errors): takes its liveness token on
// map.token first (only one description can hold it), then the claim word; takes the role over
// from a holder whose token the kernel released (it died). Errors: kRoleTaken naming the live
// holder's pid.
[[nodiscard]] Result<ClaimResult> claim_role(ChannelMap& map, channel_layout::RoleSlot& slot,
                                             std::string_view role, WaitStrategy wait);
// Marks the role closed and frees it if this process still holds it (claim == ours), then drops
// the token (after the claim: a peer that finds the token free and the claim unchanged may judge
// the holder dead).
void release_role(const ChannelMap& map, channel_layout::RoleSlot& slot, std::uint64_t claim) noexcept;

// Sessions (layout 2.0, docs/channel.md "Sessions"). A session is one claim of a role:
// RoleSlot::claims numbers them, and a departure (closed, or a dead holder) belongs to the session
// of the claim it ends. An endpoint remembers first_session() of its peer's slot when it attaches
// and reports the peer's end only once session_reached(): never the end of a session it had no part
// in. The first session whose end concerns an endpoint attaching now: the current one while a live
// holder has the role, or while `pending` data of the last one is left to read; else the next one.
// Tests the holder's token when the role is held (open only).
template <class Pending>  // bool(): whether data of the role's last session is left to read
[[nodiscard]] std::uint64_t first_session(const ChannelMap& map, channel_layout::RoleSlot& slot,
                                          Pending&& pending) noexcept {
  // acquire: pairs with the release CAS of release_role() (and the claim CAS), so `claims` counts
  // the session that holds or released the role, and `pending()` below sees all it published.
  const std::uint64_t claim = aref(slot.claim).load(std::memory_order_acquire);
  const std::uint64_t claims = aref(slot.claims).load(std::memory_order_relaxed);
  if (claim != 0 && holder_state(map, slot, claim) != HolderState::kDead) return claims;  // held now
  return pending() ? claims : claims + 1;  // closed or dead: ours only if its data is left
}
// Whether the role's current or last session is `first` or later.
[[nodiscard]] bool session_reached(channel_layout::RoleSlot& slot, std::uint64_t first) noexcept;

}  // namespace ipckit::detail
