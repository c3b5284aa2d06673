// SPDX-License-Identifier: Apache-2.0
/// @file
/// The message layer, whole: POSIX and System V message queues, datagram sockets (UNIX and UDP) and descriptor passing.
#pragma once

#include "ipckit/message/datagram_socket.hpp"
#include "ipckit/message/fd_passing.hpp"
#include "ipckit/message/posix_mq.hpp"
#include "ipckit/message/sysv_mq.hpp"
#include "ipckit/message/udp.hpp"
#include "ipckit/message/unix_datagram.hpp"
