// SPDX-License-Identifier: Apache-2.0
// pipe: an anonymous pipe from the sender to the receiver (and a second one back for round trips),
// created by the parent before fork() like a shell pipeline. Stream framing; blocking.
#include "engine/fd_session.hpp"
#include "engine/registry.hpp"
#include "ipckit/stream/pipe.hpp"

namespace ipckit::bench {
namespace {

class PipeSession final : public FdSession {
 public:
  PipeSession() noexcept : FdSession(Kind::kStream, false, false) {}
  Result<void> create(Pattern pattern) {
    for (int p = 0; p < (pattern == Pattern::kRtt ? 2 : 1); ++p) {
      // ipckit's Pipe (O_CLOEXEC); the shared stream loops then drive the raw descriptors.
      auto pair = Pipe::create();
      if (!pair) return fail(pair.error());
      owned_[static_cast<std::size_t>(2 * p)] = pair->reader.release();
      owned_[static_cast<std::size_t>(2 * p + 1)] = pair->writer.release();
      // ipckit keeps its own ends O_NONBLOCK; the bench runs kernel mechanisms blocking.
      for (int e = 0; e < 2; ++e) {
        if (auto r = set_nonblocking(owned_[static_cast<std::size_t>(2 * p + e)].get(), false); !r) return r;
      }
    }
    ends_[0] = {pattern == Pattern::kRtt ? 2 : -1, 1};  // sender: writes pipe 0, reads pipe 1
    ends_[1] = {0, pattern == Pattern::kRtt ? 3 : -1};  // receiver: reads pipe 0, writes pipe 1
    return {};
  }
};

class PipeMechanism final : public Mechanism {
 public:
  std::string_view name() const noexcept override { return "pipe"; }
  std::string_view description() const noexcept override {
    return "anonymous pipe(s) made before fork(); one write() per frame, reader reads 64 KiB and parses";
  }
  Wait wait() const noexcept override { return Wait::kBlocking; }
  bool supports(Pattern) const noexcept override { return true; }
  Result<std::unique_ptr<Session>> open(Pattern pattern, std::size_t) const override {
    auto s = std::make_unique<PipeSession>();
    if (auto r = s->create(pattern); !r) return fail(r.error());
    return std::unique_ptr<Session>(std::move(s));
  }
};

}  // namespace

const Mechanism& pipe_mechanism() {
  static const PipeMechanism m;
  return m;
}

}  // namespace ipckit::bench
