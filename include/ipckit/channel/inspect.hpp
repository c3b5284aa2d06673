// SPDX-License-Identifier: Apache-2.0
// Read-only inspection of a channel's shared-memory objects, for monitors (`ipckit stat chan:/x`,
// `ipckit ls`). Nothing is claimed, written or woken: the objects are mapped PROT_READ.
//
// Everything read is another process's memory: values are snapshots (counters may move while they
// are read), every loop is bounded by compile-time table sizes, and a header that fails validation
// is an Error (kCorrupt), never an out-of-bounds read.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ipckit/core/liveness.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/export.hpp"

namespace ipckit {

// One recorded participant: a producer/consumer role slot (SPSC), a member (MPMC), the publisher
// or a subscriber record (broadcast).
struct ChannelParticipant {
  std::string role;          // "producer", "consumer", "publisher", "subscriber"
  ProcessIdentity who;       // as recorded by the participant
  Liveness state = Liveness::kUnknown;  // liveness(who): pid + start time + pid namespace
  std::string wait;          // "busy-poll", "spin-then-futex", "blocking" ("" for subscribers)
  std::uint64_t sent = 0;    // this participant's own counters where the layout keeps them
  std::uint64_t received = 0;
  std::uint64_t lapsed = 0;  // broadcast subscribers: messages lost to lapping
  std::uint64_t subscriber_id = 0;
};

struct ChannelInfo {
  std::string name;  // "/jobs"
  std::uint16_t version_major = 0;
  std::uint16_t version_minor = 0;
  std::string pattern;  // "spsc", "mpmc", "broadcast"
  std::uint64_t capacity = 0;
  std::uint64_t max_message = 0;
  std::uint64_t fill = 0;      // SPSC: bytes between consumer and producer; MPMC: messages queued
  std::string fill_unit;       // "bytes", "messages", or "" (broadcast: no single fill)
  ProcessIdentity creator;
  std::uint64_t created_unix_ns = 0;
  std::vector<ChannelParticipant> participants;  // recorded holders only (free slots are left out)
  // Totals (participants' live counters included).
  std::uint64_t sent = 0, received = 0, full_waits = 0, empty_waits = 0, futex_wakes = 0;
  std::uint64_t redelivered = 0, reclaimed = 0, lapsed = 0;
  // Every shared-memory name the channel owns: "/jobs", and for broadcast "/jobs.ctl", "/jobs.sub.N".
  std::vector<std::string> objects;
};

// What a /dev/shm object is, by its magic number (read through `fd`, opened O_RDONLY).
enum class ChannelObjectKind { kNone, kData, kControl, kSubscriber };
[[nodiscard]] IPCKIT_API ChannelObjectKind channel_object_kind(int fd) noexcept;

// Inspects channel `name` ("/jobs"). Blocking: reads /dev/shm and /proc (no waits). Errors: the
// shm_open/fstat/mmap failure (ENOENT, EACCES), kCorrupt for a header that is not a channel's or
// fails validation, kVersionMismatch for another major layout version.
[[nodiscard]] IPCKIT_API Result<ChannelInfo> inspect_channel(std::string_view name);

// A broadcast subscriber record `/x.sub.N` on its own (its channel may be gone): who wrote it and
// whether it left (closed). Errors as inspect_channel.
struct SubscriberRecordInfo {
  std::uint64_t id = 0;
  ProcessIdentity who;
  Liveness state = Liveness::kUnknown;
  bool closed = false;
  std::uint64_t received = 0;
  std::uint64_t lapsed = 0;
};
[[nodiscard]] IPCKIT_API Result<SubscriberRecordInfo> inspect_subscriber_record(std::string_view object_name);

}  // namespace ipckit
