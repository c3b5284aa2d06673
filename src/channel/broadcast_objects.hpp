// SPDX-License-Identifier: Apache-2.0
// Internal: the broadcast channel's objects (`<name>`, `<name>.ctl`, `<name>.sub.<id>`) and the
// helpers its publisher (broadcast_publisher.cpp) and subscribers (broadcast_subscriber.cpp) share:
// names, sizes, opening `.ctl`, listing subscriber records. Defined in broadcast_objects.cpp.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ipckit/channel/broadcast.hpp"
#include "ipckit/channel/broadcast_layout.hpp"
#include "ipckit/core/mapping.hpp"
#include "ipckit/core/open_mode.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/core/unique_fd.hpp"

namespace ipckit::detail {

// The publisher's view of one subscriber.
struct SubscriberView {
  std::uint64_t id = 0;
  std::string name;
  Mapping map;
  UniqueFd fd;  // the publisher's own description of the record: tests the subscriber's token
  SubscriberRecord* rec = nullptr;
  bool seen = false;  // found by the current rescan
};

namespace broadcast {

// The eviction line: the common header's reserved line (896), written only by the publisher.
[[nodiscard]] EvictLine* evict_line(channel_layout::Header* h) noexcept;
// Bytes of one slot for messages of up to `max` bytes: header + payload rounded up to whole cache
// lines (channel_layout::kCacheLine), so the publisher writing a slot never false-shares with a
// subscriber reading the one before it (8-byte rounding until layout 3.0).
[[nodiscard]] std::uint64_t slot_size_for(std::uint64_t max) noexcept;
[[nodiscard]] std::string suffix_name(std::string_view name, std::string_view suffix);
// kInvalidArgument (kCorrupt when read from an object) unless the ring holds at least 2 slots.
[[nodiscard]] Result<void> check_slots(std::string_view name, std::uint64_t capacity, std::uint64_t max,
                                       bool corrupt);
// The longest derived name (`<name>.sub.<largest id>`) must be a valid POSIX name, checked before
// anything is created.
[[nodiscard]] Result<void> check_derived_names(std::string_view name);
// Sets the mode of the new object behind `fd` and reserves its `size` bytes (posix_fallocate:
// ENOSPC, named with /dev/shm's free space, instead of a SIGBUS on first touch).
[[nodiscard]] Result<void> size_new_object(int fd, std::string_view name, mode_t mode, std::uint64_t size);
// Opens or creates `<name>.ctl` (everyone maps it read-write). An existing one must pass the owner
// check of o.mode and o.trust (one planted by another user is refused, even by the creator of the
// data object: a concurrent opener of a new channel may create `.ctl` first, so existing alone
// proves nothing).
[[nodiscard]] Result<Mapping> open_ctl(std::string_view name, const ChannelOptions& o);
// Ids of every `<name>.sub.<id>` in /dev/shm.
[[nodiscard]] std::vector<std::uint64_t> list_subscribers(std::string_view name);
[[nodiscard]] std::string sub_name(std::string_view name, std::uint64_t id);
// The data object and `.ctl` of one endpoint, opened (or created) and validated.
struct BroadcastObjects {
  ChannelMap data;
  Mapping ctl;
};
// What both sides' open() do first: the derived names checked before anything is created, the
// sizes, the data object (`read_only` for subscribers: mapped PROT_READ) and `.ctl`.
[[nodiscard]] Result<BroadcastObjects> open_objects(std::string_view name, OpenMode mode,
                                                    const BroadcastOptions& options, bool read_only);
// The slot of message `m` in a ring of `slots` slots of `slot_size` bytes.
[[nodiscard]] inline SlotHeader* slot_at(const ChannelMap& m, std::uint64_t slots, std::uint64_t slot_size,
                                         std::uint64_t message) noexcept {
  return reinterpret_cast<SlotHeader*>(m.ring + (message % slots) * slot_size);
}
// Whether the subscriber of `view` is dead: its record is ready and its liveness token (byte 0 of
// the record, src/channel/token.hpp) is free. One fcntl().
[[nodiscard]] bool record_owner_dead(const SubscriberView& view) noexcept;
[[nodiscard]] BroadcastPolicy read_policy(const channel_layout::Header* h) noexcept;

}  // namespace broadcast
}  // namespace ipckit::detail
