// SPDX-License-Identifier: Apache-2.0
// IPCKIT_API marks the public symbols of libipckit. Every build compiles the library once with hidden
// visibility and links both libipckit.a and libipckit.so from it, so the marker is always the default
// visibility attribute; consumers of the static library (its CMake target adds IPCKIT_STATIC) get an
// empty marker.
#pragma once

#if defined(IPCKIT_STATIC)
#define IPCKIT_API
#else
#define IPCKIT_API __attribute__((visibility("default")))
#endif
