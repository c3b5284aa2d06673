// SPDX-License-Identifier: Apache-2.0
// The driver table: one factory per mechanism file (mech_<name>.cpp). To add a mechanism, declare
// its factory here and add it to the table in registry.cpp.
#pragma once

#include "engine/mechanism.hpp"

namespace ipckit::bench {

// Baselines.
const Mechanism& memcpy_mechanism();
const Mechanism& atomic_pingpong_mechanism();
const Mechanism& shm_handoff_mechanism();
const Mechanism& shm_pingpong_mechanism();
// Kernel mechanisms.
const Mechanism& pipe_mechanism();
const Mechanism& pipe_splice_mechanism();
const Mechanism& fifo_mechanism();
const Mechanism& unix_stream_mechanism();
const Mechanism& unix_dgram_mechanism();
const Mechanism& unix_seqpacket_mechanism();
const Mechanism& tcp_mechanism();
const Mechanism& tcp6_mechanism();
const Mechanism& udp_mechanism();
const Mechanism& posix_mq_mechanism();
const Mechanism& sysv_mq_mechanism();
const Mechanism& shm_sem_mechanism();
// The ipckit channel (SPSC: not available while the channel layer is missing from the build).
const Mechanism& channel_spsc_mechanism();
const Mechanism& channel_spsc_blocking_mechanism();
const Mechanism& channel_spsc_epoll_mechanism();
// 1 subscriber (in the default run), or 2, 4, 8 (run only when named).
const Mechanism& channel_broadcast_mechanism(int subscribers);
// 1 producer x 1 consumer (in the default run), or 2x2, 4x4 (run only when named).
const Mechanism& channel_mpmc_mechanism(int n);
// Peer libraries (bench/engine/peers/, compiled when their packages were found at configure time).
const Mechanism& boost_mq_mechanism();
const Mechanism& zmq_ipc_mechanism();
const Mechanism& iceoryx_mechanism();
const Mechanism& iceoryx_waitset_mechanism();

}  // namespace ipckit::bench
