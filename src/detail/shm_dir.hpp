// SPDX-License-Identifier: Apache-2.0
// Private helper of every layer: where glibc keeps POSIX shared-memory objects and named semaphores.
//
// glibc's shm_open("/x") opens SHM_DIR/x and sem_open("/x") opens SHM_DIR/sem.x, where SHM_DIR is
// /dev/shm on Linux (glibc >= 2.34 fixes it there; older ones searched the mounts for a tmpfs and
// picked /dev/shm on every usual system). This is the one place that spells the directory: hints
// (`df /dev/shm`, statvfs for ENOSPC), the named semaphore's file for chmod and ownership checks.
#pragma once

#include <string>
#include <string_view>

namespace ipckit::detail {

inline constexpr std::string_view kShmDir = "/dev/shm";

// The file behind a POSIX shm name: "/x" -> "/dev/shm/x".
inline std::string shm_path(std::string_view name) { return std::string(kShmDir) + std::string(name); }

// The file behind a named semaphore: "/x" -> "/dev/shm/sem.x".
inline std::string sem_path(std::string_view name) {
  return std::string(kShmDir) + "/sem." + std::string(name.empty() ? name : name.substr(1));
}

}  // namespace ipckit::detail
