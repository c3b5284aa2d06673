// SPDX-License-Identifier: Apache-2.0
/// @file
/// The signal layer, whole: signal sets and masks, scoped handlers, signalfd and sending signals.
#pragma once

#include "ipckit/signal/send.hpp"
#include "ipckit/signal/signal_fd.hpp"
#include "ipckit/signal/signal_handler.hpp"
#include "ipckit/signal/signal_mask.hpp"
#include "ipckit/signal/signal_set.hpp"
