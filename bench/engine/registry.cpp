#include "engine/registry.hpp"

#include <vector>

namespace ipckit::bench {
namespace {

// A mechanism this build cannot run; it stays in the table so runs list it as not available
// instead of hiding it.
class NotBuiltMechanism final : public Mechanism {
 public:
  constexpr NotBuiltMechanism(std::string_view name, Wait wait, std::string_view reason) noexcept
      : name_(name), wait_(wait), reason_(reason) {}
  std::string_view name() const noexcept override { return name_; }
  std::string_view description() const noexcept override { return reason_; }
  Wait wait() const noexcept override { return wait_; }
  bool supports(Pattern) const noexcept override { return true; }
  Availability available() const override { return {false, std::string(reason_)}; }
  Result<std::unique_ptr<Session>> open(Pattern, std::size_t) const override {
    return fail_library(LibraryCode::kNotAvailable, "bench", ipckit::quoted(name_), std::string(reason_));
  }

 private:
  std::string_view name_;
  Wait wait_;
  std::string_view reason_;
};

constexpr std::string_view kNoChannel = "not built: channel layer missing";
const NotBuiltMechanism kNotBuilt[] = {
    {"channel-spsc", Wait::kBusy, kNoChannel},
    {"channel-spsc-blocking", Wait::kBlocking, kNoChannel},
    {"channel-mpmc", Wait::kSpinFutex, kNoChannel},
    {"channel-broadcast", Wait::kSpinFutex, kNoChannel},
};

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

const Mechanism& not_built_mechanism(int index) { return kNotBuilt[index]; }

std::span<const Mechanism* const> all_mechanisms() {
  static const std::vector<const Mechanism*> table = {
      &memcpy_mechanism(),      &atomic_pingpong_mechanism(), &shm_handoff_mechanism(),
      &shm_pingpong_mechanism(), &pipe_mechanism(),            &fifo_mechanism(),
      &unix_stream_mechanism(), &unix_dgram_mechanism(),      &unix_seqpacket_mechanism(),
      &tcp_mechanism(),         &tcp6_mechanism(),            &udp_mechanism(),
      &posix_mq_mechanism(),    &sysv_mq_mechanism(),         &shm_sem_mechanism(),
      &not_built_mechanism(0),  &not_built_mechanism(1),      &not_built_mechanism(2),
      &not_built_mechanism(3),
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
