// SPDX-License-Identifier: Apache-2.0
// ipckit's version. CMakeLists.txt reads IPCKIT_VERSION_STRING from this file, so it is the one source.
#pragma once

#define IPCKIT_VERSION_MAJOR 0
#define IPCKIT_VERSION_MINOR 1
#define IPCKIT_VERSION_PATCH 0
#define IPCKIT_VERSION_STRING "0.1.0"

namespace ipckit {
inline constexpr int kVersionMajor = IPCKIT_VERSION_MAJOR;
inline constexpr int kVersionMinor = IPCKIT_VERSION_MINOR;
inline constexpr int kVersionPatch = IPCKIT_VERSION_PATCH;
inline constexpr const char* kVersionString = IPCKIT_VERSION_STRING;
}  // namespace ipckit
