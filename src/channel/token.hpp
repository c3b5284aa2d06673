// SPDX-License-Identifier: Apache-2.0
// Internal: liveness tokens (docs/channel.md "Liveness"). A token is an OFD lock (F_OFD_SETLK,
// write lock) on one byte of a channel object, taken by the endpoint that holds a role (the byte
// at the offset of its role slot; a broadcast subscriber: byte 0 of its own record) on a
// description of its own (detail::TokenFd). The kernel releases it when the last fd of that
// description closes, that is when the process exits however it exits, in any pid namespace and
// whatever /proc shows; pid reuse cannot fake it. A peer tests it with F_OFD_GETLK, on the slow
// path only (attach, liveness checks, reaping).
#pragma once

#include <cstdint>
#include <string_view>

#include "ipckit/channel/detail.hpp"
#include "ipckit/core/result.hpp"

namespace ipckit::detail {

enum class TokenState { kHeld, kFree, kUnknown };

// A new description of the object behind `fd` (open("/proc/self/fd/N") with fd's access mode,
// O_CLOEXEC), registered for the fork handler. Errors name `name` and say /proc must be mounted.
[[nodiscard]] Result<TokenFd> own_description(int fd, std::string_view name);
// Takes the token at byte `offset` without waiting: true when taken (or already ours), false when
// another description holds it (a live holder). Errors: the fcntl() naming `name`.
[[nodiscard]] Result<bool> take_token(const TokenFd& fd, std::uint64_t offset, std::string_view name);
// Releases our token at `offset` (nothing when we hold none there).
void drop_token(const TokenFd& fd, std::uint64_t offset) noexcept;
// Whether another description holds the token at `offset` (our own never counts: an OFD lock does
// not conflict with its own description). kUnknown when the test itself failed.
[[nodiscard]] TokenState token_state(int fd, std::uint64_t offset) noexcept;
// The byte of the token of the role slot at `slot` in the object mapped at `base`.
[[nodiscard]] inline std::uint64_t token_offset(const void* base, const void* slot) noexcept {
  return static_cast<std::uint64_t>(static_cast<const std::byte*>(slot) - static_cast<const std::byte*>(base));
}

}  // namespace ipckit::detail
