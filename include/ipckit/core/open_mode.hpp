// SPDX-License-Identifier: Apache-2.0
/// @file
/// How a named object is opened. Every named-object type in ipckit takes one of these.
#pragma once

#include <sys/types.h>

namespace ipckit {

/// Whether an open creates the object, opens an existing one, or either.
enum class OpenMode {
  kCreateExclusive,  ///< create; fail with EEXIST if it exists (O_CREAT|O_EXCL)
  kOpenOrCreate,     ///< create if missing, else open; race-free (O_EXCL, EEXIST -> open, ENOENT -> retry)
  kOpenExisting,     ///< open; fail with ENOENT if missing
};

/// Default permission of everything ipckit creates: owner read/write only.
inline constexpr mode_t kDefaultMode = 0600;

}  // namespace ipckit
