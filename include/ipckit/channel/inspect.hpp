// SPDX-License-Identifier: Apache-2.0
/// @file
/// Read-only inspection of a channel's shared-memory objects, for monitors (`ipckit stat chan:/x`,
/// `ipckit ls`). Nothing is claimed, written or woken: the objects are mapped PROT_READ.
///
/// Everything read is another process's memory: values are snapshots (counters may move while they
/// are read), every loop is bounded by compile-time table sizes, and a header that fails validation
/// is an Error (kCorrupt), never an out-of-bounds read.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ipckit/core/liveness.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/export.hpp"

namespace ipckit {

/// One recorded participant: a producer/consumer role slot (SPSC), a member (MPMC), the publisher
/// or a subscriber record (broadcast).
struct ChannelParticipant {
  std::string role;          ///< "producer", "consumer", "publisher", "subscriber"
  ProcessIdentity who;       ///< as recorded by the participant
  Liveness state = Liveness::kUnknown;  ///< liveness(who): pid + start time + pid namespace
  std::string wait;          ///< "busy-poll", "spin-then-futex", "blocking" ("" for subscribers)
  std::uint64_t sent = 0;    ///< this participant's own counters where the layout keeps them
  std::uint64_t received = 0;  ///< messages received (own counter where the layout keeps one)
  std::uint64_t lapsed = 0;  ///< broadcast subscribers: messages lost to lapping
  std::uint64_t subscriber_id = 0;  ///< broadcast subscribers: the record's id (N of `/x.sub.N`)
};

/// What inspect_channel() reports about one channel.
struct ChannelInfo {
  std::string name;  ///< "/jobs"
  std::uint16_t version_major = 0;  ///< layout version of the header, major
  std::uint16_t version_minor = 0;  ///< layout version of the header, minor
  std::string pattern;  ///< "spsc", "mpmc", "broadcast"
  std::uint64_t capacity = 0;     ///< ring bytes
  std::uint64_t max_message = 0;  ///< largest payload in bytes
  std::uint64_t fill = 0;      ///< SPSC: bytes between consumer and producer; MPMC: messages queued
  std::string fill_unit;       ///< "bytes", "messages", or "" (broadcast: no single fill)
  ProcessIdentity creator;     ///< the process that created the channel
  std::uint64_t created_unix_ns = 0;  ///< creation time, ns since the Unix epoch
  std::vector<ChannelParticipant> participants;  ///< recorded holders only (free slots are left out)
  // Totals (participants' live counters included).
  std::uint64_t sent = 0, received = 0, full_waits = 0, empty_waits = 0, futex_wakes = 0;
  std::uint64_t redelivered = 0, reclaimed = 0, lapsed = 0;
  /// Every shared-memory name the channel owns: "/jobs", and for broadcast "/jobs.ctl", "/jobs.sub.N".
  std::vector<std::string> objects;
  /// @var sent
  /// Total records sent (the totals include the participants' live counters).
  /// @var received
  /// Total records received.
  /// @var full_waits
  /// Total sends that found the ring full and waited.
  /// @var empty_waits
  /// Total receives that found the ring empty and waited.
  /// @var futex_wakes
  /// Total FUTEX_WAKE syscalls made (both sides) + epoll notifications.
  /// @var redelivered
  /// Total records handed to a consumer a second time after a crash.
  /// @var reclaimed
  /// Total roles taken over from dead holders.
  /// @var lapsed
  /// Total messages lost to lapping (broadcast subscribers).
};

/// What a /dev/shm object is, by its magic number (read through `fd`, opened O_RDONLY).
enum class ChannelObjectKind { kNone, kData, kControl, kSubscriber };
/// @var ChannelObjectKind::kNone
/// Not a channel object (or shorter than a magic number).
/// @var ChannelObjectKind::kData
/// A channel's data object (header and ring).
/// @var ChannelObjectKind::kControl
/// A broadcast channel's control object (`/x.ctl`).
/// @var ChannelObjectKind::kSubscriber
/// A broadcast subscriber record (`/x.sub.N`).

/// Reads the magic number at offset 0 of `fd` (pread: never blocks on a shm object) and names the
/// kind; kNone when it cannot be read or matches no channel object.
[[nodiscard]] IPCKIT_API ChannelObjectKind channel_object_kind(int fd) noexcept;

/// Inspects channel `name` ("/jobs"). Blocking: reads /dev/shm and /proc (no waits). Errors: the
/// shm_open/fstat/mmap failure (ENOENT, EACCES), kCorrupt for a header that is not a channel's or
/// fails validation, kVersionMismatch for another major layout version.
[[nodiscard]] IPCKIT_API Result<ChannelInfo> inspect_channel(std::string_view name);

/// A broadcast subscriber record `/x.sub.N` on its own (its channel may be gone): who wrote it and
/// whether it left (closed), as read by inspect_subscriber_record().
struct SubscriberRecordInfo {
  std::uint64_t id = 0;                 ///< the subscriber's id (N of `/x.sub.N`)
  ProcessIdentity who;                  ///< the subscriber process, as it recorded itself
  Liveness state = Liveness::kUnknown;  ///< liveness(who)
  bool closed = false;                  ///< the subscriber closed (left in order)
  std::uint64_t received = 0;           ///< messages the subscriber received
  std::uint64_t lapsed = 0;             ///< messages it lost to lapping
};
/// Reads the subscriber record `object_name` (`/x.sub.N`) once, read-only; never waits. Errors:
/// an invalid name, the shm_open/fstat/mmap failure, kCorrupt (wrong size), kNotReady (not yet
/// ready, or not a subscriber record's magic).
[[nodiscard]] IPCKIT_API Result<SubscriberRecordInfo> inspect_subscriber_record(std::string_view object_name);

}  // namespace ipckit
