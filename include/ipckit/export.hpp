// SPDX-License-Identifier: Apache-2.0
// IPCKIT_API marks the public symbols of libipckit when it is built as a shared library
// (IPCKIT_SHARED=ON builds with hidden visibility); for the static library it expands to nothing.
#pragma once

#if defined(IPCKIT_STATIC)
#define IPCKIT_API
#else
#define IPCKIT_API __attribute__((visibility("default")))
#endif
