// SPDX-License-Identifier: Apache-2.0
/// @file
/// The channel layer, whole: the lock-free shared-memory channel (SPSC, MPMC, broadcast), its typed wrapper, layouts, epoll notification, hand-over and inspection.
#pragma once

#include "ipckit/channel/broadcast.hpp"
#include "ipckit/channel/broadcast_layout.hpp"
#include "ipckit/channel/handover.hpp"
#include "ipckit/channel/inspect.hpp"
#include "ipckit/channel/layout.hpp"
#include "ipckit/channel/mpmc.hpp"
#include "ipckit/channel/mpmc_layout.hpp"
#include "ipckit/channel/notify.hpp"
#include "ipckit/channel/options.hpp"
#include "ipckit/channel/spsc.hpp"
#include "ipckit/channel/typed.hpp"
#include "ipckit/channel/views.hpp"
