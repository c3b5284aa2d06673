// SPDX-License-Identifier: Apache-2.0
// Private helper: what kind of file a mode describes, for errors such as
// `mkfifo("/tmp/x"): EEXIST: the path is a regular file, not a FIFO`.
#pragma once

#include <sys/stat.h>

namespace ipckit::detail {

inline const char* describe_file_type(mode_t m) noexcept {
  if (S_ISREG(m)) return "a regular file";
  if (S_ISDIR(m)) return "a directory";
  if (S_ISFIFO(m)) return "a FIFO";
  if (S_ISLNK(m)) return "a symbolic link";
  if (S_ISCHR(m) || S_ISBLK(m)) return "a device";
  if (S_ISSOCK(m)) return "a socket";
  return "a file of unknown type";
}

}  // namespace ipckit::detail
