// SPDX-License-Identifier: Apache-2.0
// Everything in the memory layer: POSIX and System V shared memory, mapped files, memfd with seals,
// mlock and huge pages. See docs/memory.md.
#pragma once

#include "ipckit/core/mapping.hpp"
#include "ipckit/memory/huge_pages.hpp"
#include "ipckit/memory/mapped_file.hpp"
#include "ipckit/memory/memfd.hpp"
#include "ipckit/memory/memory_lock.hpp"
#include "ipckit/memory/posix_shm.hpp"
#include "ipckit/memory/sysv_shm.hpp"
