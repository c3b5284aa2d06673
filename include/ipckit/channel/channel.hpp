// SPDX-License-Identifier: Apache-2.0
// Umbrella header of the channel layer.
#pragma once

#include "ipckit/channel/layout.hpp"
#include "ipckit/channel/options.hpp"
#include "ipckit/channel/spsc.hpp"
#include "ipckit/channel/broadcast.hpp"
#include "ipckit/channel/mpmc.hpp"
#include "ipckit/channel/typed.hpp"
