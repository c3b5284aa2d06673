// SPDX-License-Identifier: Apache-2.0
// Files as IPC, part 1: publishing a whole file atomically.
//
// atomic_replace() writes the new contents to a temporary file in the same directory, fsync()s it,
// rename()s it over the target and fsync()s the directory. rename(2) swaps the name in one step, so a
// reader that open()s the path sees the old file or the new one, never a half-written one — and a
// reader that already had the old file open keeps reading the old contents to the end. After a crash
// (of the writer or the machine) the path holds the old or the new contents, never a mix; a stale
// temporary "<name>.tmp.XXXXXX" may remain after a crash between create and rename.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <span>
#include <string>

#include "ipckit/core/open_mode.hpp"
#include "ipckit/core/result.hpp"

namespace ipckit {

/// Options for atomic_replace().
struct ReplaceOptions {
  mode_t mode = kDefaultMode;  ///< permissions of the new file (exactly; the umask does not apply)
  bool sync = true;            ///< fsync the file and the directory (durability, not atomicity)
};

/// Replaces the file at \p path with \p data atomically: a temporary file in the same directory,
/// fsync, rename over the target, fsync of the directory (see atomic_file.hpp).
/// Blocks (disk IO). Safe to call from several processes at once: the last rename wins, each reader
/// sees one complete version. Errors: ENOENT/EACCES on the directory, ENOSPC/EDQUOT while writing
/// (the temporary file is removed and the target is untouched), EXDEV never (same directory).
[[nodiscard]] IPCKIT_API Result<void> atomic_replace(const std::string& path, std::span<const std::byte> data,
                                                     ReplaceOptions options = {});

/// Reads a whole file (one open(): a consistent version when writers use atomic_replace()).
/// Errors: ENOENT, EACCES, EISDIR.
[[nodiscard]] IPCKIT_API Result<std::string> read_file(const std::string& path);

}  // namespace ipckit
