// SPDX-License-Identifier: Apache-2.0
/// @file
/// The core layer, whole: Result and Error, descriptors, deadlines, I/O loops, mappings, names, units and liveness.
#pragma once

#include "ipckit/core/attempt.hpp"
#include "ipckit/core/deadline.hpp"
#include "ipckit/core/eintr.hpp"
#include "ipckit/core/error.hpp"
#include "ipckit/core/expect_ok.hpp"
#include "ipckit/core/io.hpp"
#include "ipckit/core/liveness.hpp"
#include "ipckit/core/mapping.hpp"
#include "ipckit/core/name.hpp"
#include "ipckit/core/open_mode.hpp"
#include "ipckit/core/ownership.hpp"
#include "ipckit/core/platform.hpp"
#include "ipckit/core/poll.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/core/sigpipe.hpp"
#include "ipckit/core/socket_address.hpp"
#include "ipckit/core/unique_fd.hpp"
#include "ipckit/core/units.hpp"
