// SPDX-License-Identifier: Apache-2.0
/// @file
/// Validation of POSIX IPC names (shm_open, mq_open, sem_open) with errors a user can act on.
#pragma once

#include <string_view>

#include "ipckit/core/result.hpp"

namespace ipckit {

/// Which kind of POSIX IPC object a name is for (it sets the length limit).
enum class NameKind {
  kShm,        ///< shm_open: becomes /dev/shm/NAME
  kMessageQueue,  ///< mq_open
  kSemaphore,  ///< sem_open: becomes /dev/shm/sem.NAME, so 4 characters shorter
};

/// Checks that `name` is "/" followed by 1..N characters with no further '/', not "." or "..", and
/// no NUL, where N is NAME_MAX (255), or NAME_MAX - 4 for semaphores. The error names `call`, the
/// name, what is wrong and the expected form, e.g.
/// @verbatim
///   shm_open("jobs"): invalid argument: a POSIX IPC name must start with '/' (try "/jobs")
/// @endverbatim
/// Errors: kInvalidArgument.
[[nodiscard]] IPCKIT_API Result<void> validate_posix_name(std::string_view name, NameKind kind,
                                                          std::string_view call);

}  // namespace ipckit
