// SPDX-License-Identifier: Apache-2.0
/// @file
/// Whether an IPC object that another process created may be used: its owner and its mode.
///
/// A named object (a POSIX shm or mq, a named semaphore, a FIFO, a System V object, a socket file)
/// can be created first by anyone who can write to its namespace, so an opener that trusts whatever it
/// finds lets another user plant an object, read what it is sent or feed it forged data. Every open of
/// an object ipckit did not create itself goes through check_owner():
///   - the owner must be the effective uid of this process (root included: root trusts only
///     root's objects unless told otherwise), or a uid or gid the caller allows in a TrustPolicy;
///   - the mode must be no wider than the caller asked for (an object we would create 0600 and find
///     0666 is refused: someone else could write to it).
/// The error names the owner (uid and user name) and the mode, so the user can act on it.
#pragma once

#include <sys/types.h>

#include <string_view>
#include <vector>

#include "ipckit/core/result.hpp"

namespace ipckit {

/// Who else may own objects this process opens. Empty lists (the default): only this effective uid.
struct TrustPolicy {
  std::vector<uid_t> allowed_uids{};  ///< owners trusted besides the effective uid
  std::vector<gid_t> allowed_gids{};  ///< an object whose group is one of these is trusted too
};

/// The owner and permission bits of an object, as stat or IPC_STAT report them.
struct ObjectOwner {
  uid_t uid = 0;  ///< owning user
  gid_t gid = 0;  ///< owning group
  mode_t mode = 0;  ///< only the permission bits (0777) are read
};

/// Checks `owner` against the effective uid, `policy` and the widest `allowed_mode`. `call` and
/// `object` name the open in the Error, e.g. check_owner(o, 0600, {}, "shm_open", quoted(name)).
/// Errors: kUntrusted naming the owner (uid and user name) and the mode, when the owner is not
/// trusted or the mode has bits outside `allowed_mode`.
[[nodiscard]] IPCKIT_API Result<void> check_owner(const ObjectOwner& owner, mode_t allowed_mode,
                                                 const TrustPolicy& policy, std::string_view call,
                                                 std::string_view object);

/// fstat(fd), then check_owner(): for every kind that opens through a descriptor (shm, mq, FIFO, files).
/// Errors: the fstat() errno, or those of check_owner().
[[nodiscard]] IPCKIT_API Result<void> check_fd_owner(int fd, mode_t allowed_mode, const TrustPolicy& policy,
                                                    std::string_view call, std::string_view object);

/// The user name of `uid` for messages ("alice"), or "uid 1001" when it has none.
[[nodiscard]] IPCKIT_API std::string user_name(uid_t uid);

}  // namespace ipckit
