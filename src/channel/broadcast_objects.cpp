// SPDX-License-Identifier: Apache-2.0
// The broadcast channel's objects: names, `.ctl`, subscriber records, unlink, inspection, and the
// helpers the publisher and the subscribers share (broadcast_objects.hpp).
#include "broadcast_objects.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "ipckit/core/eintr.hpp"
#include "ipckit/core/name.hpp"
#include "ipckit/core/ownership.hpp"
#include "ipckit/channel/broadcast_layout.hpp"
#include "memory/shm_hint.hpp"
#include "segment.hpp"
#include "token.hpp"

namespace ipckit {
namespace cl = channel_layout;
using detail::aref;

namespace detail::broadcast {

EvictLine* evict_line(cl::Header* h) noexcept { return reinterpret_cast<EvictLine*>(h->reserved_line); }

std::uint64_t slot_size_for(std::uint64_t max) noexcept {
  constexpr std::uint64_t line = channel_layout::kCacheLine;
  const std::uint64_t size = (kSlotHeader + max + line - 1) & ~(line - 1);
  return size;
}

std::string suffix_name(std::string_view name, std::string_view suffix) {
  std::string s(name);
  s += suffix;
  return s;
}

Result<void> check_slots(std::string_view name, std::uint64_t capacity, std::uint64_t max, bool corrupt) {
  const std::uint64_t n = capacity / slot_size_for(max);
  if (n >= 2) return {};
  return fail_library(corrupt ? LibraryCode::kCorrupt : LibraryCode::kInvalidArgument, "channel_open", quoted(name),
                      fmt::format("capacity {} holds {} broadcast slot(s) of {} bytes (16 + max_message {} "
                                  "rounded to 8); at least 2 are needed: raise capacity",
                                  capacity, n, slot_size_for(max), max));
}

// The longest name derived from `name` (a subscriber record with the largest id) must be a valid
// POSIX name too, checked before anything exists: otherwise the data and `.ctl` objects would be
// created and the first subscriber would fail with ENAMETOOLONG, leaving both behind.
Result<void> check_derived_names(std::string_view name) {
  const std::string longest = fmt::format("{}.sub.{}", name, ~std::uint64_t{0});
  if (validate_posix_name(longest, NameKind::kShm, "shm_open")) return {};
  if (auto v = validate_posix_name(name, NameKind::kShm, "shm_open"); !v) return fail(v.error());
  const std::size_t over = longest.size() - 1 - NAME_MAX;
  return fail_library(LibraryCode::kInvalidArgument, "channel_open", quoted(name),
                      fmt::format("name too long for a broadcast channel: its subscriber records are named "
                                  "\"<name>.sub.<id>\" (up to {} more characters) and would exceed NAME_MAX {}; "
                                  "shorten the name by {} characters",
                                  longest.size() - name.size(), NAME_MAX, over));
}

Result<void> size_new_object(int fd, std::string_view name, mode_t mode, std::uint64_t size) {
  if (::fchmod(fd, mode) != 0) return last_errno().fail("fchmod", quoted(name));
  // posix_fallocate reserves the pages now: ENOSPC here on a full /dev/shm, where a sparse
  // ftruncate left the first touch of the mapping to die of SIGBUS.
  const int err = no_eintr_rc(::posix_fallocate, fd, 0, static_cast<off_t>(size));
  if (err != 0) return fail_errno(err, "posix_fallocate", quoted(name), shm_hint(err, name, size));
  return {};
}

// Opens or creates `<name>.ctl` (everyone maps it read-write).
Result<Mapping> open_ctl(std::string_view name, const ChannelOptions& o) {
  const std::string n = suffix_name(name, ".ctl");
  const Deadline deadline = deadline_after(o.open_timeout);
  for (;;) {
    int fd = ::shm_open(n.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, o.mode);
    if (fd >= 0) {
      UniqueFd f(fd);
      if (auto sized = size_new_object(fd, n, o.mode, detail::kCtlSize); !sized) {
        ::shm_unlink(n.c_str());
        return fail(sized.error());
      }
      auto m = Mapping::map(fd, detail::kCtlSize, {}, 0, quoted(n));
      if (!m) {
        ::shm_unlink(n.c_str());
        return fail(m.error());
      }
      auto* c = static_cast<BroadcastCtl*>(m->data());
      c->magic = detail::kCtlMagic;
      aref(c->ready).store(cl::kReady, std::memory_order_release);  // pairs with the acquire below
      return std::move(*m);
    }
    if (errno != EEXIST) return last_errno().fail("shm_open", quoted(n));
    // It exists. Even when we just created the data object this can be legitimate (an opener of
    // the new channel got to .ctl first), so what decides is its owner and mode: one planted by
    // another user is refused below, never used.
    fd = ::shm_open(n.c_str(), O_RDWR | O_CLOEXEC, 0);
    if (fd < 0) {
      if (errno == ENOENT && Clock::now() < deadline) continue;
      return last_errno().fail("shm_open", quoted(n));
    }
    UniqueFd f(fd);
    if (auto trusted = check_fd_owner(fd, o.mode, o.trust, "channel_open", quoted(n)); !trusted) {
      return fail(trusted.error());
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) return last_errno().fail("fstat", quoted(n));
    if (static_cast<std::uint64_t>(st.st_size) == detail::kCtlSize) {
      auto m = Mapping::map(fd, detail::kCtlSize, {}, 0, quoted(n));
      if (!m) return fail(m.error());
      auto* c = static_cast<BroadcastCtl*>(m->data());
      // pairs with the release store of `ready` by the creator
      if (aref(c->ready).load(std::memory_order_acquire) == cl::kReady) {
        if (aref(c->magic).load(std::memory_order_relaxed) != detail::kCtlMagic) {
          return fail_library(LibraryCode::kCorrupt, "channel_open", quoted(n), "control object magic is wrong");
        }
        return std::move(*m);
      }
    } else if (static_cast<std::uint64_t>(st.st_size) > detail::kCtlSize) {
      return fail_library(LibraryCode::kCorrupt, "channel_open", quoted(n),
                          fmt::format("control object size {} != {}", st.st_size, detail::kCtlSize));
    }
    if (Clock::now() >= deadline) {
      return fail_library(LibraryCode::kNotReady, "channel_open", quoted(n),
                          fmt::format("the control object was not initialised within {} ms; remove it with "
                                      "BroadcastChannel::unlink", o.open_timeout.count()));
    }
    ::usleep(1000);
  }
}

// Ids of every `<name>.sub.<id>` in /dev/shm.
std::vector<std::uint64_t> list_subscribers(std::string_view name) {
  std::vector<std::uint64_t> ids;
  const std::string prefix = suffix_name(name.substr(1), ".sub.");
  DIR* d = ::opendir("/dev/shm");
  if (d == nullptr) return ids;
  while (dirent* e = ::readdir(d)) {
    const std::string_view entry(e->d_name);
    if (entry.size() <= prefix.size() || entry.substr(0, prefix.size()) != prefix) continue;
    std::uint64_t id = 0;
    const auto tail = entry.substr(prefix.size());
    auto [p, ec] = std::from_chars(tail.data(), tail.data() + tail.size(), id);
    if (ec == std::errc() && p == tail.data() + tail.size()) ids.push_back(id);
  }
  ::closedir(d);
  return ids;
}

std::string sub_name(std::string_view name, std::uint64_t id) { return fmt::format("{}.sub.{}", name, id); }

Result<BroadcastObjects> open_objects(std::string_view name, OpenMode mode, const BroadcastOptions& options,
                                      bool read_only) {
  if (auto v = check_derived_names(name); !v) return fail(v.error());
  if (mode != OpenMode::kOpenExisting) {
    if (auto v = check_slots(name, options.channel.capacity, options.channel.max_message, false); !v) {
      return fail(v.error());
    }
  }
  auto m = open_segment(name, mode, options.channel, 0, cl::kPatternBroadcast, read_only,
                        static_cast<std::uint64_t>(options.policy));
  if (!m) return fail(m.error());
  if (auto v = check_slots(name, m->capacity, m->max_message, true); !v) return fail(v.error());
  auto ctl = open_ctl(name, options.channel);
  if (!ctl) {
    if (m->created) ::shm_unlink(std::string(name).c_str());  // nothing of a half-made channel stays
    return fail(ctl.error());
  }
  return BroadcastObjects{std::move(*m), std::move(*ctl)};
}

bool record_owner_dead(const SubscriberView& view) noexcept {
  return token_state(view.fd.get(), 0) == TokenState::kFree;
}

BroadcastPolicy read_policy(const cl::Header* h) noexcept {
  return h->imm.reserved[0] == static_cast<std::uint64_t>(BroadcastPolicy::kBlock) ? BroadcastPolicy::kBlock
                                                                                  : BroadcastPolicy::kLapse;
}

}  // namespace detail::broadcast

using namespace detail::broadcast;

// ------------------------------------------------------------------------------------------------
// BroadcastChannel

Result<void> BroadcastChannel::unlink(std::string_view name) {
  if (auto v = validate_posix_name(name, NameKind::kShm, "shm_unlink"); !v) return fail(v.error());
  const std::string n(name);
  const int rc = ::shm_unlink(n.c_str());
  const int err = errno;
  ::shm_unlink(suffix_name(name, ".ctl").c_str());
  for (std::uint64_t id : list_subscribers(name)) ::shm_unlink(sub_name(name, id).c_str());
  if (rc != 0) return fail_errno(err, "shm_unlink", quoted(name));
  return {};
}

}  // namespace ipckit

namespace ipckit {
namespace detail {

bool is_control_magic(std::uint64_t magic) noexcept { return magic == kCtlMagic; }
bool is_subscriber_magic(std::uint64_t magic) noexcept { return magic == kSubMagic; }

namespace {

// Maps `/x.sub.N` read-only and reads its record once; nullopt-like errors for garbage.
Result<SubscriberRecordInfo> read_subscriber_record(const std::string& n) {
  UniqueFd fd(::shm_open(n.c_str(), O_RDONLY | O_CLOEXEC, 0));
  if (!fd) return last_errno().fail("shm_open", quoted(n));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return last_errno().fail("fstat", quoted(n));
  if (static_cast<std::uint64_t>(st.st_size) != kRecordSize) {
    return fail_library(LibraryCode::kCorrupt, "channel_inspect", quoted(n),
                        fmt::format("subscriber record of {} bytes, not {}", st.st_size, kRecordSize));
  }
  MapOptions mo;
  mo.access = Access::kReadOnly;
  auto m = Mapping::map(fd.get(), kRecordSize, mo, 0, quoted(n));
  if (!m) return fail(m.error());
  auto* rec = static_cast<SubscriberRecord*>(m->data());
  // pairs with the release store of `ready` in BroadcastSubscriber::open()
  if (aref(rec->ready).load(std::memory_order_acquire) != cl::kReady ||
      aref(rec->magic).load(std::memory_order_relaxed) != kSubMagic) {
    return fail_library(LibraryCode::kNotReady, "channel_inspect", quoted(n), "the subscriber record is not ready");
  }
  SubscriberRecordInfo info;
  info.id = aref(rec->id).load(std::memory_order_relaxed);
  info.who.pid = aref(rec->who.pid).load(std::memory_order_relaxed);
  info.who.start_time = aref(rec->who.start_time).load(std::memory_order_relaxed);
  info.who.pid_ns = aref(rec->who.pid_ns).load(std::memory_order_relaxed);
  info.closed = aref(rec->closed).load(std::memory_order_relaxed) != 0;
  info.received = aref(rec->received).load(std::memory_order_relaxed);
  info.lapsed = aref(rec->lost).load(std::memory_order_relaxed);
  switch (token_state(fd.get(), 0)) {  // the subscriber's liveness token (src/channel/token.hpp)
    case TokenState::kHeld: info.state = Liveness::kAlive; break;
    case TokenState::kFree: info.state = Liveness::kDead; break;
    case TokenState::kUnknown: info.state = Liveness::kUnknown; break;
  }
  return info;
}

}  // namespace

void inspect_broadcast(ChannelMap& m, ChannelInfo& out) {
  if (auto p = describe_slot(m, m.header->producer, "publisher")) {
    p->sent = out.sent;
    out.participants.push_back(std::move(*p));
  }
  out.received = 0;  // the subscribers' own counters below
  const std::string ctl = suffix_name(m.name, ".ctl");
  if (UniqueFd c(::shm_open(ctl.c_str(), O_RDONLY | O_CLOEXEC, 0)); c) out.objects.push_back(ctl);
  std::vector<std::uint64_t> ids = list_subscribers(m.name);
  std::sort(ids.begin(), ids.end());
  for (std::uint64_t id : ids) {
    const std::string n = sub_name(m.name, id);
    out.objects.push_back(n);
    auto rec = read_subscriber_record(n);
    if (!rec || rec->closed) continue;
    ChannelParticipant p;
    p.role = "subscriber";
    p.who = rec->who;
    p.state = rec->state;
    p.subscriber_id = rec->id;
    p.received = rec->received;
    p.lapsed = rec->lapsed;
    out.received += p.received;
    out.lapsed += p.lapsed;
    out.participants.push_back(std::move(p));
  }
}

}  // namespace detail

Result<SubscriberRecordInfo> inspect_subscriber_record(std::string_view object_name) {
  if (auto v = validate_posix_name(object_name, NameKind::kShm, "channel_inspect"); !v) return fail(v.error());
  return detail::read_subscriber_record(std::string(object_name));
}

}  // namespace ipckit
