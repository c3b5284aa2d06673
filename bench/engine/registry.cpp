#include "engine/registry.hpp"

#include <array>

#include "engine/not_built.hpp"

namespace ipckit::bench {
namespace {

const NotBuiltMechanism kNotBuilt[] = {
    {"channel-mpmc", Wait::kSpinFutex, kNoChannelLayer},
    {"channel-broadcast", Wait::kSpinFutex, kNoChannelLayer},
};

}  // namespace

const Mechanism& not_built_mechanism(int index) { return kNotBuilt[index]; }

std::span<const Mechanism* const> all_mechanisms() {
  static const std::array<const Mechanism*, 19> table = {
      &memcpy_mechanism(),      &atomic_pingpong_mechanism(), &shm_handoff_mechanism(),
      &shm_pingpong_mechanism(), &pipe_mechanism(),            &fifo_mechanism(),
      &unix_stream_mechanism(), &unix_dgram_mechanism(),      &unix_seqpacket_mechanism(),
      &tcp_mechanism(),         &tcp6_mechanism(),            &udp_mechanism(),
      &posix_mq_mechanism(),    &sysv_mq_mechanism(),         &shm_sem_mechanism(),
      &channel_spsc_mechanism(), &channel_spsc_blocking_mechanism(), &not_built_mechanism(0),
      &not_built_mechanism(1),
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
