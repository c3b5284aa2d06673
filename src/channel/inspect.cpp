// SPDX-License-Identifier: Apache-2.0
// Read-only inspection of channels (include/ipckit/channel/inspect.hpp). The pattern-specific
// parts live beside each pattern's layout (mpmc.cpp, broadcast_objects.cpp), which they alone know.
#include "ipckit/channel/inspect.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>

#include <fmt/format.h>

#include "ipckit/core/io.hpp"
#include "ipckit/core/name.hpp"
#include "ipckit/core/unique_fd.hpp"
#include "segment.hpp"

namespace ipckit {
namespace cl = channel_layout;
using detail::aref;

namespace {
std::uint64_t load(std::uint64_t& v) noexcept { return aref(v).load(std::memory_order_relaxed); }
}  // namespace

ChannelObjectKind channel_object_kind(int fd) noexcept {
  std::uint64_t magic = 0;
  if (::pread(fd, &magic, sizeof magic, 0) != static_cast<ssize_t>(sizeof magic)) return ChannelObjectKind::kNone;
  if (magic == cl::kMagic) return ChannelObjectKind::kData;
  if (detail::is_control_magic(magic)) return ChannelObjectKind::kControl;
  if (detail::is_subscriber_magic(magic)) return ChannelObjectKind::kSubscriber;
  return ChannelObjectKind::kNone;
}

Result<ChannelInfo> inspect_channel(std::string_view name) {
  if (auto v = validate_posix_name(name, NameKind::kShm, "channel_inspect"); !v) return fail(v.error());
  const std::string n(name);
  UniqueFd fd(::shm_open(n.c_str(), O_RDONLY | O_CLOEXEC, 0));
  if (!fd) return last_errno().fail("shm_open", quoted(name));
  std::uint32_t pattern = 0;
  auto m = detail::map_for_inspection(name, fd.get(), pattern);
  if (!m) return fail(m.error());
  cl::Header* h = m->header;
  ChannelInfo out;
  out.name = n;
  out.version_major = h->imm.version_major;
  out.version_minor = h->imm.version_minor;
  out.pattern = detail::pattern_text(pattern);
  out.capacity = m->capacity;
  out.max_message = m->max_message;
  out.creator = h->imm.creator;
  out.created_unix_ns = h->imm.created_unix_ns;
  out.objects.push_back(n);
  // Header totals: the SPSC endpoints' counters, and the folded counters of departed MPMC members.
  out.sent = load(h->prod.sent);
  out.received = load(h->cons.received);
  out.full_waits = load(h->prod.full_waits);
  out.empty_waits = load(h->cons.empty_waits);
  out.futex_wakes = load(h->prod.futex_wakes) + load(h->cons.futex_wakes);
  out.redelivered = load(h->cons.redelivered);
  out.reclaimed = load(h->misc.reclaimed);
  switch (pattern) {
    case cl::kPatternSpsc: {
      const std::uint64_t tail = load(h->prod.tail);
      const std::uint64_t head = load(h->cons.head);
      // A corrupt pair reads as 0, never as more than the ring holds.
      out.fill = tail >= head && tail - head <= out.capacity ? tail - head : 0;
      out.fill_unit = "bytes";
      for (auto [slot, role] : {std::pair{&h->producer, "producer"}, std::pair{&h->consumer, "consumer"}}) {
        if (auto p = detail::describe_slot(*m, *slot, role)) {
          if (p->role == std::string("producer")) p->sent = out.sent;
          else p->received = out.received;
          out.participants.push_back(std::move(*p));
        }
      }
      break;
    }
    case cl::kPatternMpmc: detail::inspect_mpmc(*m, out); break;
    case cl::kPatternBroadcast: detail::inspect_broadcast(*m, out); break;
    default: break;
  }
  return out;
}

}  // namespace ipckit
