// SPDX-License-Identifier: Apache-2.0
// Umbrella header for ipckit's byte streams: pipes, FIFOs, subprocesses, UNIX stream sockets, TCP
// and pseudoterminals. Each mechanism also has its own header; include only what you use.
#pragma once

#include "ipckit/stream/byte_stream.hpp"
#include "ipckit/stream/fifo.hpp"
#include "ipckit/stream/pipe.hpp"
#include "ipckit/stream/pty.hpp"
#include "ipckit/stream/stream_socket.hpp"
#include "ipckit/stream/subprocess.hpp"
#include "ipckit/stream/tcp.hpp"
#include "ipckit/stream/unix_stream.hpp"
