// SPDX-License-Identifier: Apache-2.0
// The shared-memory layout of a broadcast channel (pattern 3): the parts that live beside the common
// header of layout.hpp. `<name>` carries the common header (its reserved line 896 is EvictLine)
// followed by slots; `<name>.ctl` is BroadcastCtl; `<name>.sub.<id>` is SubscriberRecord. Fixed
// offsets (static_asserts) so processes built by different compilers agree; every mutable field is
// accessed through std::atomic_ref and validated after reading (docs/channel.md, "Part 2: broadcast").
#pragma once

#include <cstddef>
#include <cstdint>

#include "ipckit/channel/layout.hpp"
#include "ipckit/core/liveness.hpp"

namespace ipckit::detail {

// `<name>.ctl`: the only object every endpoint writes. A misbehaving subscriber can make wake-ups
// late (bounded by liveness_interval) or trigger needless rescans, never corrupt data or another
// subscriber.
struct BroadcastCtl {
  alignas(channel_layout::kCacheLine) std::uint64_t magic;  // 0
  std::uint32_t ready;                          // 8  kReady, stored last with release
  std::uint32_t reserved0;
  alignas(channel_layout::kCacheLine) std::uint64_t next_id;   // 128 subscriber ids (fetch_add)
  std::uint64_t join_gen;                           // 136 bumped after every join and leave
  alignas(channel_layout::kCacheLine) std::uint32_t data_seq;  // 256 subscribers sleep here
  std::uint32_t sleepers;                           // 260 subscribers announced asleep, not yet woken
  alignas(channel_layout::kCacheLine) std::uint32_t space_seq;          // 384 the kBlock publisher sleeps here
  std::uint32_t publisher_sleeping;                          // 388
  alignas(channel_layout::kCacheLine) std::uint64_t reserved[16];        // 512
};
static_assert(offsetof(BroadcastCtl, next_id) == 128);
static_assert(offsetof(BroadcastCtl, data_seq) == 256);
static_assert(offsetof(BroadcastCtl, space_seq) == 384);
inline constexpr std::size_t kCtlSize = 4096;
inline constexpr std::uint64_t kCtlMagic = 0x4c5443'4b435049ULL;  // "IPCKCTL"
static_assert(sizeof(BroadcastCtl) <= kCtlSize);

// `<name>.sub.<id>`: written only by its subscriber, mapped read-only by the publisher.
struct SubscriberRecord {
  alignas(channel_layout::kCacheLine) std::uint64_t magic;  // 0
  std::uint32_t ready;                          // 8   kReady once identity and id are written
  std::uint32_t closed;                         // 12  1 after leave
  std::uint64_t id;                             // 16
  ProcessIdentity who;                          // 24
  alignas(channel_layout::kCacheLine) std::uint64_t cursor;  // 128 next message number to read; kUnpositioned
  std::uint64_t received;                        // 136
  std::uint64_t lost;                            // 144
  std::uint32_t armed;                           // 152 reserved for epoll (part 3), 0
  std::uint32_t reserved32;
  std::uint64_t reserved[12];
};
static_assert(offsetof(SubscriberRecord, cursor) == 128);
inline constexpr std::size_t kRecordSize = 4096;
inline constexpr std::uint64_t kSubMagic = 0x425553'4b435049ULL;  // "IPCKSUB"
inline constexpr std::uint64_t kUnpositioned = ~std::uint64_t{0};

// Broadcast lines in the header's reserved line (896), written only by the publisher.
struct EvictLine {
  std::uint64_t evictions;         // 0
  std::uint64_t evicted_ids[8];    // 8  ring of id+1 of the last evicted subscribers
  std::uint64_t reserved[7];
};
static_assert(sizeof(EvictLine) == sizeof(channel_layout::Header::reserved_line));

// A slot: sequence word, length, payload. seq = 2m+1 while message m is written, 2m+2 once complete.
struct SlotHeader {
  std::uint64_t seq;
  std::uint64_t length;
};
inline constexpr std::uint64_t kSlotHeader = sizeof(SlotHeader);
static_assert(kSlotHeader == 16);
static_assert(offsetof(SubscriberRecord, who) == 24);
static_assert(sizeof(SubscriberRecord) <= kRecordSize);
static_assert(offsetof(EvictLine, evicted_ids) == 8);

}  // namespace ipckit::detail
