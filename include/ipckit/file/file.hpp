// SPDX-License-Identifier: Apache-2.0
/// @file
/// The file layer, whole: atomically replaced files and append-only logs.
#pragma once

#include "ipckit/file/append_log.hpp"
#include "ipckit/file/atomic_file.hpp"
