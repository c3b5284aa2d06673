#include "engine/registry.hpp"

#include <array>

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

}  // namespace

const Mechanism& not_built_mechanism(int index) { return kNotBuilt[index]; }

std::span<const Mechanism* const> all_mechanisms() {
  static const std::array<const Mechanism*, 19> table = {
      &memcpy_mechanism(),      &atomic_pingpong_mechanism(), &shm_handoff_mechanism(),
      &shm_pingpong_mechanism(), &pipe_mechanism(),            &fifo_mechanism(),
      &unix_stream_mechanism(), &unix_dgram_mechanism(),      &unix_seqpacket_mechanism(),
      &tcp_mechanism(),         &tcp6_mechanism(),            &udp_mechanism(),
      &posix_mq_mechanism(),    &sysv_mq_mechanism(),         &shm_sem_mechanism(),
      &not_built_mechanism(0),  &not_built_mechanism(1),      &not_built_mechanism(2),
      &not_built_mechanism(3),
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
