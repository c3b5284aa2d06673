// SPDX-License-Identifier: Apache-2.0
// Private helper of the memory layer (and the channel, which maps POSIX shm objects too): the one
// hint for a failed shm_open / fchmod / posix_fallocate / shm_unlink.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ipckit::detail {

// What to do about errno `err` on the POSIX shm object `name`. For ENOSPC with `size` > 0 it
// compares the size with the free space of the shm directory's filesystem (statvfs):
// "needs 1 TiB, /dev/shm has 24 GiB free of 32 GiB: ...". Empty when there is nothing to add.
[[nodiscard]] std::string shm_hint(int err, std::string_view name, std::size_t size = 0);

// "1 TiB", "1.5 MiB", "512 bytes": binary multiples, one decimal when not exact.
[[nodiscard]] std::string byte_size_text(std::uint64_t bytes);

}  // namespace ipckit::detail
