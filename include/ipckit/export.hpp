// SPDX-License-Identifier: Apache-2.0
/// @file
/// IPCKIT_API marks the public symbols of libipckit. Every build compiles the library once with hidden
/// visibility and links both libipckit.a and libipckit.so from it, so the marker is always the default
/// visibility attribute; consumers of the static library (its CMake target adds IPCKIT_STATIC) get an
/// empty marker.
#pragma once

#if defined(IPCKIT_STATIC)
/// Marks a public symbol of libipckit: empty for consumers of the static library (IPCKIT_STATIC).
#define IPCKIT_API
#else
/// Marks a public symbol of libipckit: default visibility (empty when IPCKIT_STATIC is defined).
#define IPCKIT_API __attribute__((visibility("default")))
#endif
