// SPDX-License-Identifier: Apache-2.0
// libFuzzer target over channel shared-memory images: whatever a hostile or buggy peer can write in
// a channel's objects must give clean errors (or data), never a crash, a hang or an out-of-bounds
// access. Each input creates a valid channel of one pattern (SPSC, MPMC or broadcast) with the
// library, then overwrites parts of its objects with the input (header, role slots, indices,
// records, member table, broadcast `.ctl`) and runs open + try_receive / try_send of both sides.
//
// Input: byte 0 selects the pattern (% 3) and whether the broadcast `.ctl` is patched (bit 2);
// then patches, each [offset: u16 little-endian][length: u8][bytes], offsets taken modulo the size
// of the patched object.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "ipckit/channel/broadcast.hpp"
#include "ipckit/channel/mpmc.hpp"
#include "ipckit/channel/spsc.hpp"

namespace {

using namespace std::chrono_literals;

ipckit::ChannelOptions options() {
  ipckit::ChannelOptions o;
  o.capacity = 32768;  // MPMC: 16 KiB member table + slots
  o.max_message = 64;
  o.open_timeout = 1ms;  // a patched `ready` must not stall every run for a second
  o.liveness_interval = 1ms;
  return o;
}

ipckit::BroadcastOptions broadcast_options() {
  ipckit::BroadcastOptions b;
  b.channel = options();
  b.channel.capacity = 4096;
  b.policy = ipckit::BroadcastPolicy::kBlock;
  b.evict_after = 1ms;
  return b;
}

// Applies the patches in [data, end) to the object `name`; returns where the patches stopped.
void patch(const std::string& name, const std::uint8_t*& data, const std::uint8_t* end) {
  const int fd = ::shm_open(name.c_str(), O_RDWR | O_CLOEXEC, 0);
  if (fd < 0) return;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || st.st_size <= 0) {
    ::close(fd);
    return;
  }
  const auto size = static_cast<std::size_t>(st.st_size);
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ::close(fd);
  if (p == MAP_FAILED) return;
  auto* base = static_cast<std::uint8_t*>(p);
  while (end - data >= 3) {
    const std::size_t off = (static_cast<std::size_t>(data[0]) | (static_cast<std::size_t>(data[1]) << 8)) % size;
    std::size_t len = data[2];
    data += 3;
    len = std::min<std::size_t>({len, static_cast<std::size_t>(end - data), size - off});
    std::memcpy(base + off, data, len);
    data += len;
  }
  ::munmap(p, size);
}

template <class Rx>
void drain(Rx& rx) {
  std::array<std::byte, 64> buf{};
  for (int i = 0; i < 8; ++i) {
    auto r = rx.try_receive(buf);
    if (!r) return;  // a clean error: what the fuzzer checks is that it is one
  }
}

const std::array<std::byte, 24> kMessage{};

void run_spsc(const std::string& name, const std::uint8_t* data, const std::uint8_t* end) {
  {
    auto tx = ipckit::SpscProducer::open(name, ipckit::OpenMode::kCreateExclusive, options());
    if (!tx) return;
    (void)tx->try_send(kMessage);
    (void)tx->try_send(kMessage);
  }
  patch(name, data, end);
  if (auto rx = ipckit::SpscConsumer::open(name, ipckit::OpenMode::kOpenExisting, options())) {
    drain(*rx);
    if (auto v = rx->try_receive(); v && *v) (void)rx->release();
  }
  if (auto tx = ipckit::SpscProducer::open(name, ipckit::OpenMode::kOpenExisting, options())) {
    (void)tx->try_send(kMessage);
  }
  (void)ipckit::SpscChannel::unlink(name);
}

void run_mpmc(const std::string& name, const std::uint8_t* data, const std::uint8_t* end) {
  {
    auto tx = ipckit::MpmcProducer::open(name, ipckit::OpenMode::kCreateExclusive, options());
    if (!tx) return;
    (void)tx->try_send(kMessage);
    (void)tx->try_send(kMessage);
  }
  patch(name, data, end);
  if (auto rx = ipckit::MpmcConsumer::open(name, ipckit::OpenMode::kOpenExisting, options())) drain(*rx);
  if (auto tx = ipckit::MpmcProducer::open(name, ipckit::OpenMode::kOpenExisting, options())) {
    (void)tx->try_send(kMessage);
  }
  (void)ipckit::MpmcChannel::unlink(name);
}

void run_broadcast(const std::string& name, bool patch_ctl, const std::uint8_t* data, const std::uint8_t* end) {
  auto pub = ipckit::BroadcastPublisher::open(name, ipckit::OpenMode::kCreateExclusive, broadcast_options());
  if (!pub) return;
  // The first half of the patches lands while a subscriber is attached, the rest at rest.
  const std::uint8_t* half = data + (end - data) / 2;
  {
    auto sub = ipckit::BroadcastSubscriber::open(name, ipckit::OpenMode::kOpenExisting, broadcast_options());
    (void)pub->try_send(kMessage);
    (void)pub->try_send(kMessage);
    (void)pub->close();
    if (sub) {
      patch(patch_ctl ? name + ".ctl" : name, data, half);
      drain(*sub);
    }
  }
  data = half;
  patch(patch_ctl ? name + ".ctl" : name, data, end);
  if (auto sub = ipckit::BroadcastSubscriber::open(name, ipckit::OpenMode::kOpenExisting, broadcast_options())) {
    drain(*sub);
    if (auto p = ipckit::BroadcastPublisher::open(name, ipckit::OpenMode::kOpenExisting, broadcast_options())) {
      (void)p->try_wait_for_subscribers(1);
      for (int i = 0; i < 4; ++i) (void)p->try_send(kMessage);
    }
    drain(*sub);
  }
  (void)ipckit::BroadcastChannel::unlink(name);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  static unsigned counter = 0;
  const std::string name = "/ipckit.fuzz." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  const std::uint8_t* end = data + size;
  switch (data[0] % 3) {
    case 0: run_spsc(name, data + 1, end); break;
    case 1: run_mpmc(name, data + 1, end); break;
    default: run_broadcast(name, (data[0] & 4) != 0, data + 1, end); break;
  }
  return 0;
}
