// SPDX-License-Identifier: Apache-2.0
/// @file
/// The synchronisation layer, whole: eventfd, file locks, futexes, process-shared robust mutexes and condition variables, POSIX and System V semaphores.
#pragma once

#include "ipckit/sync/eventfd.hpp"
#include "ipckit/sync/file_lock.hpp"
#include "ipckit/sync/futex.hpp"
#include "ipckit/sync/robust_mutex.hpp"
#include "ipckit/sync/semaphore.hpp"
#include "ipckit/sync/sysv_semaphore.hpp"
