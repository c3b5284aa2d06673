// SPDX-License-Identifier: Apache-2.0
/// @file
/// The memory layer, whole: POSIX and System V shared memory, the shared-memory creation helper, memfd, mapped files, huge pages and memory locking.
#pragma once

#include "ipckit/core/mapping.hpp"
#include "ipckit/memory/huge_pages.hpp"
#include "ipckit/memory/mapped_file.hpp"
#include "ipckit/memory/memfd.hpp"
#include "ipckit/memory/memory_lock.hpp"
#include "ipckit/memory/posix_shm.hpp"
#include "ipckit/memory/shm_object.hpp"
#include "ipckit/memory/sysv_shm.hpp"
