// SPDX-License-Identifier: Apache-2.0
/// @file
/// The stream layer, whole: pipes, FIFOs, subprocesses, pseudoterminals, UNIX and TCP stream sockets, splice and the byte-stream verbs they share.
#pragma once

#include "ipckit/stream/byte_stream.hpp"
#include "ipckit/stream/fifo.hpp"
#include "ipckit/stream/pipe.hpp"
#include "ipckit/stream/pty.hpp"
#include "ipckit/stream/splice.hpp"
#include "ipckit/stream/stream_socket.hpp"
#include "ipckit/stream/subprocess.hpp"
#include "ipckit/stream/tcp.hpp"
#include "ipckit/stream/unix_stream.hpp"
