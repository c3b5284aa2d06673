// SPDX-License-Identifier: Apache-2.0
// A producer process streams variable-length records to a consumer through an ipckit channel:
// zero-copy on both sides, batched publishing, the orderly end of stream, and cleanup.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "ipckit/channel/channel.hpp"

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // narration reaches a pipe line by line, never twice after fork
  const std::string name = "/ipckit.example.channel." + std::to_string(::getpid());
  ipckit::ChannelOptions options;
  options.capacity = 1 << 16;   // ring bytes
  options.max_message = 1024;   // largest record
  options.wait = ipckit::WaitStrategy::kSpinThenFutex;

  // The consumer creates the channel before the producer exists, so nothing is lost.
  auto rx = ipckit::SpscConsumer::open(name, ipckit::OpenMode::kCreateExclusive, options);
  if (!rx) {
    std::fprintf(stderr, "%s\n", rx.error().str().c_str());
    return 1;
  }
  std::printf("[consumer] created chan:%s (SPSC ring of 64 KiB in shared memory, records up to 1 KiB, "
              "spin-then-futex waiting) before the producer exists\n",
              name.c_str());
  constexpr int kRecords = 10000;
  const pid_t pid = ::fork();
  if (pid == 0) {
    auto tx = ipckit::SpscProducer::open(name, ipckit::OpenMode::kOpenExisting, options);
    if (!tx) ::_exit(2);
    std::printf("[producer %d] opened the channel by name; writing %d records in place (reserve, memcpy, commit), "
                "publishing every 16th\n",
                static_cast<int>(::getpid()), kRecords);
    std::fflush(stdout);
    for (int i = 0; i < kRecords; ++i) {
      const std::string text = "record " + std::to_string(i);
      auto span = tx->reserve(text.size());  // waits while the ring is full
      if (!span || !*span) ::_exit(3);
      std::memcpy(span->data.data(), text.data(), text.size());
      // Publish once per 16 records: one release store and one wake check per batch.
      if (!tx->commit(/*publish=*/i % 16 == 15)) ::_exit(4);
    }
    (void)tx->close();  // flushes; the consumer sees kPeerClosed once it has drained the ring
    std::printf("[producer %d] close(): the last batch is published; the consumer sees peer closed after it\n",
                static_cast<int>(::getpid()));
    std::fflush(stdout);
    ::_exit(0);
  }

  int received = 0;
  for (;;) {
    auto msg = rx->receive();
    if (!msg) {
      std::fprintf(stderr, "%s\n", msg.error().str().c_str());
      break;
    }
    if (msg->status != ipckit::ChannelStatus::kOk) break;  // kPeerClosed (or kPeerDied)
    const std::string expect = "record " + std::to_string(received);
    if (std::string_view(reinterpret_cast<const char*>(msg->data.data()), msg->data.size()) != expect) break;
    ++received;
    if (!rx->release()) break;
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  const auto counters = rx->counters();
  std::printf("[consumer] received %d records in order, zero-copy views released one by one (sent %llu, futex wakes %llu)\n", received,
              static_cast<unsigned long long>(counters.sent), static_cast<unsigned long long>(counters.futex_wakes));
  (void)ipckit::SpscChannel::unlink(name);  // nothing is removed implicitly
  std::printf("[consumer] unlinked chan:%s\n", name.c_str());
  return received == kRecords && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
