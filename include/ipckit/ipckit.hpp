// SPDX-License-Identifier: Apache-2.0
/// @file
/// All of ipckit: every layer's header, the version and the export macro.
#pragma once

#include "ipckit/version.hpp"
#include "ipckit/export.hpp"
#include "ipckit/core/core.hpp"
#include "ipckit/stream/stream.hpp"
#include "ipckit/message/message.hpp"
#include "ipckit/memory/memory.hpp"
#include "ipckit/sync/sync.hpp"
#include "ipckit/signal/signal.hpp"
#include "ipckit/file/file.hpp"
#include "ipckit/channel/channel.hpp"
#include "ipckit/endpoint/endpoint.hpp"
#include "ipckit/inventory/inventory.hpp"
