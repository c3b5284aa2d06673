// SPDX-License-Identifier: Apache-2.0
#include "segment.hpp"

#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "memory/shm_hint.hpp"
#include "token.hpp"

#include "ipckit/core/eintr.hpp"
#include "ipckit/core/name.hpp"
#include "ipckit/core/ownership.hpp"
#include "ipckit/core/unique_fd.hpp"

namespace ipckit::detail {
namespace cl = channel_layout;

std::atomic<std::uint64_t> g_fork_generation{0};

namespace {

constexpr std::uint64_t kMaxMessageLimit = std::uint64_t{1} << 30;
// 4 GiB: the commit word's position tag ((pos / 8) mod 2^30, layout.hpp) repeats every 8 GiB, so a
// larger ring would give a record's word the same tag on every lap.
constexpr std::uint64_t kMaxCapacity = std::uint64_t{1} << 32;

void on_fork_child() noexcept { g_fork_generation.fetch_add(1, std::memory_order_relaxed); }

}  // namespace

Result<void> validate_creation(std::string_view name, const ChannelOptions& o) {
  if (o.max_message > kMaxMessageLimit) {
    return fail_library(LibraryCode::kInvalidArgument, "channel_open", quoted(name),
                        fmt::format("max_message {} > {} (the record length field is 32 bits)",
                                    o.max_message, kMaxMessageLimit));
  }
  if (o.capacity > kMaxCapacity || !std::has_single_bit(o.capacity)) {
    return fail_library(LibraryCode::kInvalidArgument, "channel_open", quoted(name),
                        fmt::format("capacity {} is not a power of two <= {} (try {}){}", o.capacity,
                                    kMaxCapacity, std::bit_ceil(std::min<std::uint64_t>(o.capacity, kMaxCapacity)),
                                    o.capacity > kMaxCapacity ? "; the commit word's position tag repeats every 8 GiB"
                                                              : ""));
  }
  const std::uint64_t need = cl::min_capacity(o.max_message);
  if (o.capacity < need) {
    return fail_library(LibraryCode::kInvalidArgument, "channel_open", quoted(name),
                        fmt::format("capacity {} < 2 x (max_message {} + {} byte record header) = {}; "
                                    "raise capacity to {} or lower max_message",
                                    o.capacity, o.max_message, cl::kRecordHeader, need, std::bit_ceil(need)));
  }
  return {};
}

namespace {

// Validates a copy of the immutable line (the caller read it once; the peer cannot change it under
// us after that) and the object's size.
const char* pattern_name(std::uint32_t pattern) {
  switch (pattern) {
    case cl::kPatternSpsc: return "spsc";
    case cl::kPatternMpmc: return "mpmc";
    case cl::kPatternBroadcast: return "broadcast";
  }
  return "unknown";
}

Result<void> validate_header(std::string_view name, const cl::Immutable& imm, std::uint64_t file_size,
                             std::uint64_t type_hash, std::uint32_t pattern) {
  auto corrupt = [&](std::string detail) {
    return fail_library(LibraryCode::kCorrupt, "channel_open", quoted(name), std::move(detail));
  };
  if (imm.magic != cl::kMagic) {
    return corrupt(fmt::format("header magic {:#x} is not an ipckit channel", imm.magic));
  }
  if (imm.version_major != cl::kVersionMajor) {
    return fail_library(LibraryCode::kVersionMismatch, "channel_open", quoted(name),
                        fmt::format("the channel has layout version {}.{}, this library reads {}.x: use the "
                                    "ipckit version that created it, or remove it (ipckit rm channel:{}) to create "
                                    "it anew",
                                    imm.version_major, imm.version_minor, cl::kVersionMajor, name));
  }
  if (imm.header_size != cl::kHeaderSize || imm.record_header != cl::kRecordHeader ||
      imm.record_align != cl::kRecordAlign) {
    return corrupt(fmt::format("header size {} / record header {} / align {} (expected {} / {} / {})",
                               imm.header_size, imm.record_header, imm.record_align, cl::kHeaderSize,
                               cl::kRecordHeader, cl::kRecordAlign));
  }
  if (imm.pattern != pattern) {
    return fail_library(LibraryCode::kUnsupported, "channel_open", quoted(name),
                        fmt::format("the channel is a {} channel (pattern {}), not {} ({}): open it with the "
                                    "matching endpoint type", pattern_name(imm.pattern), imm.pattern,
                                    pattern_name(pattern), pattern));
  }
  if (imm.max_message > kMaxMessageLimit || imm.capacity > kMaxCapacity ||
      !std::has_single_bit(imm.capacity) || imm.capacity < cl::min_capacity(imm.max_message)) {
    return corrupt(fmt::format("capacity {} / max_message {} are inconsistent", imm.capacity, imm.max_message));
  }
  if (file_size != cl::kHeaderSize + imm.capacity) {
    return corrupt(fmt::format("object size {} != header {} + capacity {}", file_size, cl::kHeaderSize,
                               imm.capacity));
  }
  if (type_hash != kAnyType && imm.type_hash != type_hash) {
    return fail_library(LibraryCode::kInvalidArgument, "channel_open", quoted(name),
                        fmt::format("message type hash {:#x} of the channel != {:#x} of this endpoint "
                                    "(0 = raw bytes)", imm.type_hash, type_hash));
  }
  return {};
}

Result<ChannelMap> map_validated(std::string_view name, int fd, std::uint64_t size, std::uint64_t type_hash,
                                 std::uint32_t pattern, bool read_only) {
  MapOptions mo;
  if (read_only) mo.access = Access::kReadOnly;
  auto m = Mapping::map(fd, size, mo, 0, quoted(name));
  if (!m) return fail(m.error());
  ChannelMap out;
  out.header = static_cast<cl::Header*>(m->data());
  // Read the immutable line once into a local and validate only the copy.
  cl::Immutable imm;
  std::memcpy(&imm, &out.header->imm, sizeof imm);
  if (auto v = validate_header(name, imm, size, type_hash, pattern); !v) return fail(v.error());
  out.capacity = imm.capacity;
  out.max_message = imm.max_message;
  out.ring = static_cast<std::byte*>(m->data()) + cl::kHeaderSize;
  out.name = std::string(name);
  out.mapping = std::move(*m);
  auto token = own_description(fd, name);
  if (!token) return fail(token.error());
  out.token = std::move(*token);
  return out;
}

Result<ChannelMap> create_segment(std::string_view name, int raw_fd, const ChannelOptions& o,
                                  std::uint64_t type_hash, std::uint32_t pattern, bool read_only,
                                  std::uint64_t pattern_word) {
  UniqueFd fd(raw_fd);
  const std::string n(name);
  auto undo = [&] { ::shm_unlink(n.c_str()); };
  // shm_open applied the umask: set the mode asked for.
  if (::fchmod(fd.get(), o.mode) != 0) {
    const int err = errno;
    undo();
    return fail_errno(err, "fchmod", quoted(name));
  }
  const std::uint64_t total = cl::kHeaderSize + o.capacity;
  // posix_fallocate reserves the pages now: ENOSPC here instead of SIGBUS on first touch.
  const int err = no_eintr_rc(::posix_fallocate, fd.get(), 0, static_cast<off_t>(total));
  if (err != 0) {
    undo();
    return fail_errno(err, "posix_fallocate", quoted(name), shm_hint(err, name, total));
  }
  auto out = initialise(name, fd.get(), o, type_hash, 0, pattern, read_only, pattern_word);
  if (!out) undo();
  return out;
}

}  // namespace

Result<ChannelMap> initialise(std::string_view name, int fd, const ChannelOptions& o, std::uint64_t type_hash,
                              std::uint32_t flags, std::uint32_t pattern, bool read_only, std::uint64_t pattern_word) {
  const std::uint64_t total = cl::kHeaderSize + o.capacity;
  auto m = Mapping::map(fd, total, {}, 0, quoted(name));
  if (!m) return fail(m.error());
  auto self = self_identity();
  if (!self) return fail(self.error());
  auto* h = static_cast<cl::Header*>(m->data());
  // The object is new and zero-filled; only we can have it mapped before `ready` is set.
  h->imm.magic = cl::kMagic;
  h->imm.version_major = cl::kVersionMajor;
  h->imm.version_minor = cl::kVersionMinor;
  h->imm.header_size = cl::kHeaderSize;
  h->imm.capacity = o.capacity;
  h->imm.max_message = o.max_message;
  h->imm.type_hash = type_hash;
  h->imm.pattern = pattern;
  h->imm.reserved[0] = pattern_word;
  h->imm.flags = flags;
  h->imm.creator = *self;
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  h->imm.created_unix_ns = static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<std::uint64_t>(ts.tv_nsec);
  h->imm.record_header = cl::kRecordHeader;
  h->imm.record_align = cl::kRecordAlign;
  // Until a consumer says otherwise, producers assume it may sleep (wake checks stay on).
  h->consumer.wait_mode = static_cast<std::uint32_t>(WaitStrategy::kBlocking);
  h->producer.wait_mode = static_cast<std::uint32_t>(WaitStrategy::kBlocking);
  aref(h->imm.ready).store(cl::kReady, std::memory_order_release);  // pairs with acquire in open_existing()
  m->reset();
  return map_validated(name, fd, total, type_hash, pattern, read_only);
}

namespace {

Result<ChannelMap> open_existing(std::string_view name, int raw_fd, const ChannelOptions& o,
                                 std::uint64_t type_hash, std::uint32_t pattern, bool read_only) {
  UniqueFd fd(raw_fd);
  const Deadline deadline = deadline_after(o.open_timeout);
  for (;;) {
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return last_errno().fail("fstat", quoted(name));
    const auto size = static_cast<std::uint64_t>(st.st_size);
    if (size >= cl::kHeaderSize) {
      MapOptions mo;
      mo.access = Access::kReadOnly;
      auto hm = Mapping::map(fd.get(), cl::kHeaderSize, mo, 0, quoted(name));
      if (!hm) return fail(hm.error());
      auto* h = static_cast<cl::Header*>(hm->data());
      // pairs with the release store of `ready` in create_segment()
      if (aref(h->imm.ready).load(std::memory_order_acquire) == cl::kReady) {
        hm->reset();
        return map_validated(name, fd.get(), size, type_hash, pattern, read_only);
      }
    }
    if (Clock::now() >= deadline) {
      return fail_library(LibraryCode::kNotReady, "channel_open", quoted(name),
                          fmt::format("the creator did not finish initialising it within {} ms "
                                      "(size {}, ready flag unset); a crashed creator leaves it so: "
                                      "remove it with SpscChannel::unlink", o.open_timeout.count(), size));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

}  // namespace

Result<ChannelMap> map_for_inspection(std::string_view name, int fd, std::uint32_t& pattern) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return last_errno().fail("fstat", quoted(name));
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size < cl::kHeaderSize) {
    return fail_library(LibraryCode::kCorrupt, "channel_inspect", quoted(name),
                        fmt::format("object of {} bytes is smaller than the {}-byte header", size, cl::kHeaderSize));
  }
  MapOptions mo;
  mo.access = Access::kReadOnly;
  auto hm = Mapping::map(fd, cl::kHeaderSize, mo, 0, quoted(name));
  if (!hm) return fail(hm.error());
  auto* h = static_cast<cl::Header*>(hm->data());
  // pairs with the release store of `ready` in initialise()
  if (aref(h->imm.ready).load(std::memory_order_acquire) != cl::kReady) {
    return fail_library(LibraryCode::kNotReady, "channel_inspect", quoted(name),
                        "the ready flag is unset: its creator has not finished (or died) initialising it");
  }
  pattern = aref(h->imm.pattern).load(std::memory_order_relaxed);
  if (pattern != cl::kPatternSpsc && pattern != cl::kPatternMpmc && pattern != cl::kPatternBroadcast) {
    return fail_library(LibraryCode::kCorrupt, "channel_inspect", quoted(name),
                        fmt::format("unknown pattern {}", pattern));
  }
  return map_validated(name, fd, size, kAnyType, pattern, true);
}

const char* pattern_text(std::uint32_t pattern) noexcept { return pattern_name(pattern); }

Result<ChannelMap> open_fd_segment(std::string_view name, int fd, std::uint64_t type_hash) {
  (void)fork_generation();
  struct stat st {};
  if (::fstat(fd, &st) != 0) return last_errno().fail("fstat", quoted(name));
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size < cl::kHeaderSize) {
    return fail_library(LibraryCode::kCorrupt, "channel_open", quoted(name),
                        fmt::format("object of {} bytes is smaller than the {}-byte header", size, cl::kHeaderSize));
  }
  {
    auto hm = Mapping::map(fd, cl::kHeaderSize, {}, 0, quoted(name));
    if (!hm) return fail(hm.error());
    // pairs with the release store of `ready` in initialise()
    if (aref(static_cast<cl::Header*>(hm->data())->imm.ready).load(std::memory_order_acquire) != cl::kReady) {
      return fail_library(LibraryCode::kNotReady, "channel_open", quoted(name),
                          "the ready flag is unset: the sender handed over an uninitialised channel");
    }
  }
  return map_validated(name, fd, size, type_hash, cl::kPatternSpsc, false);
}

Result<ChannelMap> open_segment(std::string_view name, OpenMode mode, const ChannelOptions& options,
                                std::uint64_t type_hash, std::uint32_t pattern, bool read_only,
                                std::uint64_t pattern_word, bool monitor) {
  if (auto v = validate_posix_name(name, NameKind::kShm, "channel_open"); !v) return fail(v.error());
  (void)fork_generation();  // registers the atfork handler before the endpoint can be forked
  if (mode != OpenMode::kOpenExisting) {
    if (auto v = validate_creation(name, options); !v) return fail(v.error());
  }
  const std::string n(name);
  const Deadline deadline = deadline_after(options.open_timeout);
  for (;;) {
    if (mode != OpenMode::kOpenExisting) {
      const int fd = ::shm_open(n.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, options.mode);
      if (fd >= 0) {
        auto created = create_segment(name, fd, options, type_hash, pattern, read_only, pattern_word);
        if (created) created->created = true;
        return created;
      }
      if (errno != EEXIST || mode == OpenMode::kCreateExclusive) {
        const int err = errno;
        return fail_errno(err, "shm_open", quoted(name), shm_hint(err, name));
      }
    }
    const int fd = ::shm_open(n.c_str(), (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC, 0);
    if (fd >= 0) {
      // Someone else may have created it first: only an owner we trust, with no wider mode than
      // ours, may hand us a channel (another user's 0666 object would read what we send).
      if (!monitor) {
        if (auto trusted = check_fd_owner(fd, options.mode, options.trust, "channel_open", quoted(name)); !trusted) {
          ::close(fd);
          return fail(trusted.error());
        }
      }
      return open_existing(name, fd, options, type_hash, pattern, read_only);
    }
    const int err = errno;
    // OpenOrCreate: it was removed between our two shm_open calls; create it again.
    if (err == ENOENT && mode == OpenMode::kOpenOrCreate && Clock::now() < deadline) continue;
    return fail_errno(err, "shm_open", quoted(name), shm_hint(err, name));
  }
}

std::uint64_t fork_generation() noexcept {
  static const bool registered = [] {
    ::pthread_atfork(nullptr, nullptr, on_fork_child);
    return true;
  }();
  (void)registered;
  return g_fork_generation.load(std::memory_order_relaxed);
}

std::uint64_t make_claim(const ProcessIdentity& who, std::uint64_t session) noexcept {
  // Low half: pid (> 0, so the claim is never 0); high half: the session number, so a successor
  // that got the dead holder's pid still makes another claim.
  return (static_cast<std::uint64_t>(who.pid) & 0xffffffffULL) | ((session & 0xffffffffULL) << 32);
}

std::uint64_t next_claim(cl::RoleSlot& slot, const ProcessIdentity& who) noexcept {
  // Only the token holder claims, so `claims` cannot move under us; publish_holder() adds the one.
  return make_claim(who, aref(slot.claims).load(std::memory_order_relaxed) + 1);
}

namespace {

ProcessIdentity read_identity(cl::RoleSlot& slot) noexcept {
  ProcessIdentity who;
  who.pid = aref(slot.who.pid).load(std::memory_order_relaxed);
  who.start_time = aref(slot.who.start_time).load(std::memory_order_relaxed);
  who.pid_ns = aref(slot.who.pid_ns).load(std::memory_order_relaxed);
  return who;
}

void publish_holder(cl::RoleSlot& slot, const ProcessIdentity& self, std::uint64_t claim, WaitStrategy wait) noexcept {
  aref(slot.who.pid).store(self.pid, std::memory_order_relaxed);
  aref(slot.who.start_time).store(self.start_time, std::memory_order_relaxed);
  aref(slot.who.pid_ns).store(self.pid_ns, std::memory_order_relaxed);
  aref(slot.wait_mode).store(static_cast<std::uint32_t>(wait), std::memory_order_relaxed);
  aref(slot.closed).store(0, std::memory_order_relaxed);
  aref(slot.claims).fetch_add(1, std::memory_order_relaxed);
  aref(slot.published).store(claim, std::memory_order_release);  // pairs with acquire in holder_state()
}

}  // namespace

bool try_claim_slot(cl::RoleSlot& slot, std::uint64_t expected, std::uint64_t mine, const ProcessIdentity& self,
                    WaitStrategy wait) noexcept {
  // acq_rel: acquire pairs with release_role()'s release (or, for a dead holder, with whatever it
  // published before dying), so the previous holder's stores are visible; release orders our claim
  // before our identity stores.
  if (!aref(slot.claim).compare_exchange_strong(expected, mine, std::memory_order_acq_rel)) return false;
  publish_holder(slot, self, mine, wait);
  return true;
}

HolderState holder_state(const ChannelMap& map, cl::RoleSlot& slot, std::uint64_t claim) noexcept {
  if (claim == 0) return HolderState::kFree;
  switch (token_state(map.token.get(), token_offset(map.header, &slot))) {
    case TokenState::kHeld: return HolderState::kAlive;
    case TokenState::kUnknown: return HolderState::kUnknown;
    case TokenState::kFree: break;
  }
  // The token is free: the holder died, or released the role just now (release_role() frees the
  // claim word before the token). acquire: pairs with that release CAS.
  const std::uint64_t now = aref(slot.claim).load(std::memory_order_acquire);
  return now == claim ? HolderState::kDead : HolderState::kFree;  // changed: that claim is no longer held
}

Result<ClaimResult> claim_role(ChannelMap& map, cl::RoleSlot& slot, std::string_view role, WaitStrategy wait) {
  auto self = self_identity();
  if (!self) return fail(self.error());
  const std::uint64_t offset = token_offset(map.header, &slot);
  auto took = take_token(map.token, offset, map.name);
  if (!took) return fail(took.error());
  if (!*took) {
    const std::uint64_t cur = aref(slot.claim).load(std::memory_order_acquire);
    const ProcessIdentity who = read_identity(slot);
    const auto pid = who.pid != 0 ? who.pid : static_cast<std::int64_t>(cur & 0xffffffffULL);
    return fail_library(LibraryCode::kRoleTaken, "channel_open", quoted(map.name),
                        fmt::format("the {} role is held by pid {} (alive{}); the channel has one {}", role, pid,
                                    pid == self->pid ? ", this process" : "", role));
  }
  // The token is ours: no other process claims the slot now, so a claim left in the word is that
  // of a holder the kernel found dead (its token was released with its last fd).
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const std::uint64_t cur = aref(slot.claim).load(std::memory_order_acquire);
    const std::uint64_t mine = next_claim(slot, *self);
    if (!try_claim_slot(slot, cur, mine, *self, wait)) continue;
    if (cur != 0) aref(map.header->misc.reclaimed).fetch_add(1, std::memory_order_relaxed);
    return ClaimResult{mine, cur != 0};
  }
  drop_token(map.token, offset);
  return fail_library(LibraryCode::kCorrupt, "channel_open", quoted(map.name),
                      fmt::format("the {} role's claim word changed 1000 times under its token: a process "
                                  "that holds no token writes it", role));
}

void release_role(const ChannelMap& map, cl::RoleSlot& slot, std::uint64_t claim) noexcept {
  if (aref(slot.claim).load(std::memory_order_relaxed) != claim) return;
  aref(slot.wait_mode).store(static_cast<std::uint32_t>(WaitStrategy::kBlocking), std::memory_order_relaxed);
  aref(slot.closed).store(1, std::memory_order_relaxed);
  std::uint64_t expected = claim;
  // release: our last head/tail stores and `closed` happen-before the next claimer's acquire.
  (void)aref(slot.claim).compare_exchange_strong(expected, 0, std::memory_order_release,
                                                 std::memory_order_relaxed);
  drop_token(map.token, token_offset(map.header, &slot));
}

bool session_reached(cl::RoleSlot& slot, std::uint64_t first) noexcept {
  return aref(slot.claims).load(std::memory_order_relaxed) >= first;
}

std::optional<ChannelParticipant> describe_slot(const ChannelMap& map, cl::RoleSlot& slot, const char* role) noexcept {
  const std::uint64_t claim = aref(slot.claim).load(std::memory_order_acquire);
  if (claim == 0) return std::nullopt;
  ChannelParticipant p;
  p.role = role;
  if (aref(slot.published).load(std::memory_order_acquire) == claim) {
    p.who = read_identity(slot);
  } else {
    p.who.pid = static_cast<std::int64_t>(claim & 0xffffffffULL);  // claimed, identity not yet published
  }
  switch (holder_state(map, slot, claim)) {
    case HolderState::kAlive: p.state = Liveness::kAlive; break;
    case HolderState::kDead: p.state = Liveness::kDead; break;
    case HolderState::kFree:
    case HolderState::kUnknown: p.state = Liveness::kUnknown; break;
  }
  const auto wait = aref(slot.wait_mode).load(std::memory_order_relaxed);
  p.wait = wait <= static_cast<std::uint32_t>(WaitStrategy::kBlocking) ? to_string(static_cast<WaitStrategy>(wait))
                                                                       : "unknown";
  return p;
}

}  // namespace ipckit::detail
