// SPDX-License-Identifier: Apache-2.0
#include "ipckit/channel/handover.hpp"

#include <array>

#include <fmt/format.h>

#include "ipckit/channel/layout.hpp"
#include "ipckit/message/fd_passing.hpp"
#include "segment.hpp"

namespace ipckit {
namespace cl = channel_layout;

Result<Memfd> create_memfd_channel(std::string_view debug_name, const ChannelOptions& options,
                                   std::uint64_t type_hash) {
  const std::string name = fmt::format("ipckit.chan:{}", debug_name);
  if (auto v = detail::validate_creation(name, options); !v) return fail(v.error());
  // Memfd::create reserves the pages (posix_fallocate): ENOSPC/ENOMEM now, not SIGBUS later.
  auto mem = Memfd::create(name, cl::kHeaderSize + options.capacity);
  if (!mem) return fail(mem.error());
  {
    auto map = detail::initialise(name, mem->native_handle(), options, type_hash, cl::kFlagMemfd);
    if (!map) return fail(map.error());
  }
  if (auto s = mem->add_seals(kChannelMemfdSeals); !s) return fail(s.error());
  return mem;
}

Result<IoStatus> send_channel(int socket_fd, const Memfd& channel) {
  const std::array<std::byte, 1> tag{std::byte{'C'}};
  const std::array<int, 1> fds{channel.native_handle()};
  return send_fds(socket_fd, tag, fds);
}

Result<ReceivedChannel> receive_channel(int socket_fd, Deadline deadline) {
  std::array<std::byte, 1> buf{};
  auto m = receive_fds_until(socket_fd, buf, deadline, 1);
  if (!m) return fail(m.error());
  if (m->status != IoStatus::kOk) return ReceivedChannel{m->status, Memfd{}};
  if (m->fds.size() != 1) {
    return fail_library(LibraryCode::kInvalidArgument, "receive_channel", fmt::format("socket {}", socket_fd),
                        fmt::format("the message carried {} descriptors, expected one memfd", m->fds.size()));
  }
  // Seals and minimum size before any mapping: a peer that could shrink the object would turn our
  // accesses into SIGBUS.
  auto mem = Memfd::adopt(std::move(m->fds[0]), MemfdRequirements{kChannelMemfdRequired, cl::kHeaderSize});
  if (!mem) return fail(mem.error());
  return ReceivedChannel{IoStatus::kOk, std::move(*mem)};
}

}  // namespace ipckit
