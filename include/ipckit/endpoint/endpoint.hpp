// SPDX-License-Identifier: Apache-2.0
/// @file
/// The endpoint layer, whole: one message interface over every mechanism, chosen by a URL (sender_receiver.hpp), its URLs, framings, session markers, NATS options and the bridge.
#pragma once

#include "ipckit/endpoint/bridge.hpp"
#include "ipckit/endpoint/framing.hpp"
#include "ipckit/endpoint/nats_options.hpp"
#include "ipckit/endpoint/sender_receiver.hpp"
#include "ipckit/endpoint/session_marker.hpp"
#include "ipckit/endpoint/url.hpp"
