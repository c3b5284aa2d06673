// SPDX-License-Identifier: Apache-2.0
/// @file
/// The shared-memory layout of an ipckit channel (`chan:/name`), layout version 3.0.
///
/// One object holds a fixed 1024-byte header followed by the ring (capacity bytes, a power of two).
/// Every field is a fixed-width integer at a fixed offset (static_asserts below) so processes built
/// by different compilers agree, and every field that changes after creation is accessed through
/// std::atomic_ref. Everything here is read from memory another process can scribble on: readers
/// load each value once into a local and validate it before use (see docs/channel.md).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "ipckit/core/liveness.hpp"

namespace ipckit::channel_layout {

/// Alignment of the header's lines. folly uses 128 on x86: adjacent-line prefetch pairs 64-byte
/// lines, so 64 still false-shares.
inline constexpr std::size_t kCacheLine = 128;
inline constexpr std::uint64_t kMagic = 0x4e414843'4b435049ULL;  ///< "IPCKCHAN" in memory order
/// Layout major version; an endpoint refuses another major version.
///
/// 3.0: MPMC and broadcast slots are whole cache lines (kCacheLine; they were 64- and 8-byte
/// aligned), which moves every slot after the first: a 2.x library would read them at other offsets.
/// 2.0: sessions. RoleSlot::claims numbers the sessions of a role and an end of stream (closed, or a
/// dead holder) belongs to the session it ends: an endpoint reports only the end of a session it had
/// part in (docs/channel.md, "Sessions"). A 1.x library would take an earlier session's end for its
/// own, so the two must not share a channel: the major version changes although no field moved.
/// 1.1: WaitLine::armed (epoll integration).
inline constexpr std::uint16_t kVersionMajor = 3;
/// Layout minor version.
inline constexpr std::uint16_t kVersionMinor = 0;
inline constexpr std::uint32_t kReady = 0x59444552;  ///< "REDY": written last by the creator
/// Bytes of the header in front of the ring.
inline constexpr std::size_t kHeaderSize = 1024;
inline constexpr std::size_t kRecordHeader = 8;  ///< one 64-bit commit word per record
/// Records start at multiples of this many bytes.
inline constexpr std::size_t kRecordAlign = 8;

/// Pattern of the object (parts 2/3 add MPMC and broadcast rings behind the same header).
enum Pattern : std::uint32_t { kPatternSpsc = 1, kPatternMpmc = 2, kPatternBroadcast = 3 };
/// @var kPatternSpsc
/// A single-producer single-consumer byte ring.
/// @var kPatternMpmc
/// A multi-producer multi-consumer slot ring (mpmc_layout).
/// @var kPatternBroadcast
/// A broadcast ring (one publisher, many subscribers).

/// Feature flags (Immutable::flags). None is set by layout 1.0; reserved so a minor version can add
/// them without moving fields.
enum Flags : std::uint32_t { kFlagEventfd = 1u << 0, kFlagMemfd = 1u << 1 };
/// @var kFlagEventfd
/// Eventfd notification; defined, but not set by this library version.
/// @var kFlagMemfd
/// The channel lives in a sealed memfd (create_memfd_channel()), not in /dev/shm.

/// Line 0: written once by the creator before `ready`, then read-only.
struct Immutable {
  std::uint64_t magic;          ///< offset 0: kMagic
  std::uint16_t version_major;  ///< offset 8: kVersionMajor
  std::uint16_t version_minor;  ///< offset 10: kVersionMinor
  std::uint32_t header_size;    ///< offset 12: kHeaderSize
  std::uint64_t capacity;       ///< offset 16: ring bytes, power of two
  std::uint64_t max_message;    ///< offset 24: largest payload
  std::uint64_t type_hash;      ///< offset 32: 0 for byte channels, Channel<T>::type_hash() otherwise
  std::uint32_t pattern;        ///< offset 40: Pattern
  std::uint32_t flags;          ///< offset 44: Flags
  ProcessIdentity creator;      ///< offset 48: pid, start time, pid-ns inode
  std::uint64_t created_unix_ns;///< offset 72: wall-clock creation time (for `ipckit ls`)
  std::uint32_t record_header;  ///< offset 80: kRecordHeader
  std::uint32_t record_align;   ///< offset 84: kRecordAlign
  std::uint64_t reserved[4];    ///< offset 88: reserved
  std::uint32_t ready;          ///< offset 120: kReady, stored last with release
  std::uint32_t reserved2;      ///< offset 124: reserved
};

/// A role (producer or consumer): who holds it, claimed with one CAS on `claim`.
struct RoleSlot {
  std::uint64_t claim;      ///< offset 0: 0 = free; else make_claim(pid, pid-ns) of the holder
  std::uint64_t published;  ///< offset 8: == claim once `who` is complete (stored with release)
  ProcessIdentity who;      ///< offset 16: holder's identity
  std::uint32_t wait_mode;  ///< offset 40: holder's WaitStrategy: may it sleep on a futex?
  std::uint32_t closed;     ///< offset 44: 1 after an orderly close(), 0 while held
  std::uint64_t claims;     ///< offset 48: how many times the role was claimed: the number of its current or last session
  std::uint64_t reserved[9];///< offset 56: reserved
};

/// Written only by the producer.
struct ProducerLine {
  std::uint64_t tail;         ///< offset 0: position after the last published record (stored per batch)
  std::uint64_t sent;         ///< offset 8: records published
  std::uint64_t full_waits;   ///< offset 16: times a send found the ring full and had to wait
  std::uint64_t futex_wakes;  ///< offset 24: FUTEX_WAKE calls made by the producer
  std::uint64_t reserved[12];  ///< reserved
};

/// Written only by the consumer.
struct ConsumerLine {
  std::uint64_t head;         ///< offset 0: position of the next record to consume (stored per release)
  std::uint64_t held;         ///< offset 8: position+1 of the record handed out and not yet released
  std::uint64_t received;     ///< offset 16: records released
  std::uint64_t redelivered;  ///< offset 24: records handed out a second time after a consumer died
  std::uint64_t futex_wakes;  ///< offset 32: FUTEX_WAKE calls made by the consumer
  std::uint64_t empty_waits;  ///< offset 40: times a receive found the ring empty and had to wait
  std::uint64_t reserved[10];  ///< reserved
};

/// Futex words and the flags that say whether anyone sleeps on them.
struct WaitLine {
  std::uint32_t data_seq;           ///< offset 0: consumer sleeps here; producer bumps it to wake
  std::uint32_t consumer_sleeping;  ///< offset 4: consumers announced asleep on data_seq (a count)
  std::uint32_t space_seq;          ///< offset 8: producer sleeps here; consumer bumps it to wake
  std::uint32_t producer_sleeping;  ///< offset 12: producers announced asleep on space_seq (a count)
  std::uint32_t armed;              ///< offset 16: 1.1: consumer waits on its notification fd (epoll)
  std::uint32_t reserved32;         ///< offset 20: reserved
  std::uint64_t reserved[13];  ///< reserved
};

/// Miscellaneous shared counters.
struct MiscLine {
  std::uint64_t reclaimed;  ///< offset 0: roles taken over from dead holders
  std::uint64_t reserved[15];  ///< reserved
};

/// The whole 1024-byte header, one kCacheLine-aligned line per part.
struct Header {
  alignas(kCacheLine) Immutable imm;  ///< offset 0
  alignas(kCacheLine) RoleSlot producer;    ///< offset 128
  alignas(kCacheLine) RoleSlot consumer;    ///< offset 256
  alignas(kCacheLine) ProducerLine prod;    ///< offset 384
  alignas(kCacheLine) ConsumerLine cons;    ///< offset 512
  alignas(kCacheLine) WaitLine wait;        ///< offset 640
  alignas(kCacheLine) MiscLine misc;        ///< offset 768
  alignas(kCacheLine) std::uint64_t reserved_line[16];  ///< offset 896: room for part 2/3
};

static_assert(sizeof(Immutable) == 128);
static_assert(sizeof(RoleSlot) == 128);
static_assert(sizeof(ProducerLine) == 128);
static_assert(sizeof(ConsumerLine) == 128);
static_assert(sizeof(WaitLine) == 128);
static_assert(sizeof(Header) == kHeaderSize);
static_assert(offsetof(Immutable, creator) == 48);
static_assert(offsetof(Immutable, ready) == 120);
static_assert(offsetof(Header, producer) == 128);
static_assert(offsetof(Header, consumer) == 256);
static_assert(offsetof(Header, prod) == 384);
static_assert(offsetof(Header, cons) == 512);
static_assert(offsetof(Header, wait) == 640);
static_assert(offsetof(Header, misc) == 768);
static_assert(std::atomic_ref<std::uint64_t>::is_always_lock_free);
static_assert(std::atomic_ref<std::uint32_t>::is_always_lock_free);

/// Commit word bit 31: the record is committed.
///
/// Record commit word: [63:32] payload length, [31] committed, [30] pad (skip to the next lap),
/// [29:0] (position / 8) mod 2^30, so a word left from another position is recognised as corrupt.
inline constexpr std::uint64_t kCommitted = 1ULL << 31;
/// Commit word bit 30: padding, skip to the next lap.
inline constexpr std::uint64_t kPad = 1ULL << 30;
/// Commit word bits 29:0: the position tag.
inline constexpr std::uint64_t kTagMask = (1ULL << 30) - 1;

/// The position tag of `pos` in a commit word: (pos / 8) mod 2^30.
[[nodiscard]] constexpr std::uint64_t position_tag(std::uint64_t pos) noexcept { return (pos >> 3) & kTagMask; }
/// The commit word of a record at `pos` with `length` payload bytes (a pad record if `pad`).
[[nodiscard]] constexpr std::uint64_t make_word(std::uint64_t pos, std::uint64_t length, bool pad) noexcept {
  return (length << 32) | kCommitted | (pad ? kPad : 0) | position_tag(pos);
}
/// Bytes a record of `length` payload bytes occupies: header + payload rounded up to 8.
[[nodiscard]] constexpr std::uint64_t record_size(std::uint64_t length) noexcept {
  return kRecordHeader + ((length + kRecordAlign - 1) & ~(kRecordAlign - 1));
}
/// The smallest capacity allowed for `max_message`: two largest records, so a largest record always
/// fits after the padding at the end of a lap.
[[nodiscard]] constexpr std::uint64_t min_capacity(std::uint64_t max_message) noexcept {
  return 2 * record_size(max_message);
}

}  // namespace ipckit::channel_layout
