// SPDX-License-Identifier: Apache-2.0
/// @file
/// ipckit's version. CMakeLists.txt reads IPCKIT_VERSION_STRING from this file, so it is the one source.
#pragma once

/// The major version number.
#define IPCKIT_VERSION_MAJOR 0
/// The minor version number.
#define IPCKIT_VERSION_MINOR 1
/// The patch version number.
#define IPCKIT_VERSION_PATCH 0
/// The version as text, "MAJOR.MINOR.PATCH".
#define IPCKIT_VERSION_STRING "0.1.0"

namespace ipckit {
/// IPCKIT_VERSION_MAJOR as a constant.
inline constexpr int kVersionMajor = IPCKIT_VERSION_MAJOR;
/// IPCKIT_VERSION_MINOR as a constant.
inline constexpr int kVersionMinor = IPCKIT_VERSION_MINOR;
/// IPCKIT_VERSION_PATCH as a constant.
inline constexpr int kVersionPatch = IPCKIT_VERSION_PATCH;
/// IPCKIT_VERSION_STRING as a constant.
inline constexpr const char* kVersionString = IPCKIT_VERSION_STRING;
}  // namespace ipckit
