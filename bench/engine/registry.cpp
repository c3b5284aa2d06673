// SPDX-License-Identifier: Apache-2.0
#include "engine/registry.hpp"

#include <vector>

#include "engine/not_built.hpp"

namespace ipckit::bench {
namespace {

// Peers whose package was missing at configure time (bench/CMakeLists.txt says which).
#ifndef IPCKIT_BENCH_HAVE_BOOST
const NotBuiltMechanism kNoBoost{"boost-mq", Wait::kBlocking, "not built: Boost.Interprocess headers (libboost-dev) not found at configure time"};
#endif
#ifndef IPCKIT_BENCH_HAVE_ZMQ
const NotBuiltMechanism kNoZmq{"zmq-ipc", Wait::kBlocking, "not built: libzmq3-dev not found at configure time"};
#endif
#ifndef IPCKIT_BENCH_HAVE_ICEORYX
constexpr std::string_view kNoIceoryx = "not built: iceoryx_posh (libiceoryx-posh-dev) not found at configure time";
const NotBuiltMechanism kNoIceoryxBusy{"iceoryx", Wait::kBusy, kNoIceoryx};
const NotBuiltMechanism kNoIceoryxWaitset{"iceoryx-waitset", Wait::kBlocking, kNoIceoryx};
#endif

}  // namespace

std::span<const Mechanism* const> all_mechanisms() {
  static const std::vector<const Mechanism*> table = {
      &memcpy_mechanism(),      &atomic_pingpong_mechanism(), &shm_handoff_mechanism(),
      &shm_pingpong_mechanism(), &pipe_mechanism(),            &pipe_splice_mechanism(),
      &fifo_mechanism(),
      &unix_stream_mechanism(), &unix_dgram_mechanism(),      &unix_seqpacket_mechanism(),
      &tcp_mechanism(),         &tcp6_mechanism(),            &udp_mechanism(),
      &posix_mq_mechanism(),    &sysv_mq_mechanism(),         &shm_sem_mechanism(),
      &channel_spsc_mechanism(), &channel_spsc_blocking_mechanism(), &channel_spsc_epoll_mechanism(),
      &channel_mpmc_mechanism(1), &channel_mpmc_mechanism(2), &channel_mpmc_mechanism(4),
      &channel_broadcast_mechanism(1), &channel_broadcast_mechanism(2), &channel_broadcast_mechanism(4),
      &channel_broadcast_mechanism(8),
      // Peers.
#ifdef IPCKIT_BENCH_HAVE_BOOST
      &boost_mq_mechanism(),
#else
      &kNoBoost,
#endif
#ifdef IPCKIT_BENCH_HAVE_ZMQ
      &zmq_ipc_mechanism(),
#else
      &kNoZmq,
#endif
#ifdef IPCKIT_BENCH_HAVE_ICEORYX
      &iceoryx_mechanism(),     &iceoryx_waitset_mechanism(),
#else
      &kNoIceoryxBusy,          &kNoIceoryxWaitset,
#endif
  };
  return table;
}

const Mechanism* find_mechanism(std::string_view name) {
  for (const Mechanism* m : all_mechanisms()) {
    if (m->name() == name) return m;
  }
  return nullptr;
}

}  // namespace ipckit::bench
