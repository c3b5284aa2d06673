// SPDX-License-Identifier: Apache-2.0
// pipe-splice: pipe's set-up, but the sender hands each frame to the pipe with vmsplice(2)
// (stream/splice.hpp) instead of write(2): the pipe refers to the sender's pages and the kernel
// copies nothing on the way in; the reader's read() copies once, straight from those pages. This is
// how close the kernel's byte path gets to zero copy.
//
// vmsplice's rule: a page must not change while the pipe still refers to it. The transport builds
// each frame in one reused buffer, so the sender copies it into the next entry of a ring that has
// more entries than the pipe can refer to at once (see Ring below), and never rewrites a page the
// reader has not read yet.
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "engine/fd_session.hpp"
#include "engine/registry.hpp"
#include "ipckit/stream/pipe.hpp"
#include "ipckit/stream/splice.hpp"

namespace ipckit::bench {
namespace {

// Frames in flight: a pipe of capacity C holds at most C / page-size page references, and at most
// C bytes, so the frames it still refers to are among the last min(C / page, C / size + 1) sent.
// Two more entries than that and the entry being rewritten was read long ago.
class Ring {
 public:
  void reset(std::size_t frame_size, std::size_t pipe_capacity) {
    const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    const std::size_t in_flight = std::min(pipe_capacity / page, pipe_capacity / frame_size + 1);
    entries_ = in_flight + 2;
    size_ = frame_size;
    memory_.assign(entries_ * size_, std::byte{0});
    next_ = 0;
  }
  // The next entry, holding a copy of `frame`.
  std::span<const std::byte> put(std::span<const std::byte> frame) {
    std::byte* at = memory_.data() + next_ * size_;
    std::memcpy(at, frame.data(), frame.size());
    next_ = (next_ + 1) % entries_;
    return {at, frame.size()};
  }

 private:
  std::vector<std::byte> memory_;
  std::size_t entries_ = 0;
  std::size_t size_ = 0;
  std::size_t next_ = 0;
};

class PipeSpliceSession final : public FdSession {
 public:
  PipeSpliceSession() noexcept : FdSession(Kind::kStream, false, false) {}

  Result<void> create(Pattern pattern, std::size_t size) {
    rtt_ = pattern == Pattern::kRtt;
    for (int p = 0; p < (rtt_ ? 2 : 1); ++p) {
      auto pair = Pipe::create();
      if (!pair) return fail(pair.error());
      // As pipe's row: kernel descriptors run blocking, so a full pipe sleeps in the kernel.
      if (auto r = set_nonblocking(pair->reader.native_handle(), false); !r) return r;
      if (auto r = set_nonblocking(pair->writer.native_handle(), false); !r) return r;
      auto capacity = pair->writer.capacity();
      if (!capacity) return fail(capacity.error());
      capacity_ = *capacity;
      owned_[static_cast<std::size_t>(2 * p)] = pair->reader.release();
      writers_[static_cast<std::size_t>(p)] = std::move(pair->writer);
    }
    size_ = size;
    // Readers only: FdSession reads from owned_; the writers stay PipeWriters for vmsplice_all.
    ends_[0] = {rtt_ ? 2 : -1, -1};  // sender: writes pipe 0, reads pipe 1
    ends_[1] = {0, -1};              // receiver: reads pipe 0, writes pipe 1
    return {};
  }

  Result<void> prepare(Role role) override {
    // The sender writes pipe 0, the receiver (the round trip's server) pipe 1.
    const std::size_t mine = role == Role::kSender ? 0 : 1;
    for (std::size_t p = 0; p < writers_.size(); ++p) {
      if (p != mine) (void)writers_[p].close();
    }
    writer_ = &writers_[mine];
    ring_.reset(size_, capacity_);
    return FdSession::prepare(role);
  }

  void after_fork() noexcept override {
    FdSession::after_fork();
    for (auto& w : writers_) (void)w.close();
  }

 protected:
  Result<bool> send(std::span<const std::byte> frame) override {
    auto r = vmsplice_all(*writer_, ring_.put(frame));
    if (!r) return fail(r.error());
    return r->status == IoStatus::kOk;  // kPeerClosed: the reader left
  }

  Result<void> finish_sending() override {
    (void)writer_->close();  // end of stream for the reader
    return {};
  }

 private:
  bool rtt_ = false;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
  std::array<PipeWriter, 2> writers_;
  PipeWriter* writer_ = nullptr;
  Ring ring_;
};

class PipeSpliceMechanism final : public Mechanism {
 public:
  std::string_view name() const noexcept override { return "pipe-splice"; }
  std::string_view description() const noexcept override {
    return "pipe, but each frame goes in by vmsplice() from a ring of sender pages (no copy into the kernel); "
           "the reader read()s";
  }
  Wait wait() const noexcept override { return Wait::kBlocking; }
  bool supports(Pattern) const noexcept override { return true; }
  Result<std::unique_ptr<Session>> open(Pattern pattern, std::size_t size) const override {
    auto s = std::make_unique<PipeSpliceSession>();
    if (auto r = s->create(pattern, size); !r) return fail(r.error());
    return std::unique_ptr<Session>(std::move(s));
  }
};

}  // namespace

const Mechanism& pipe_splice_mechanism() {
  static const PipeSpliceMechanism m;
  return m;
}

}  // namespace ipckit::bench
