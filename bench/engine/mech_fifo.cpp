// SPDX-License-Identifier: Apache-2.0
// fifo: named pipes (mkfifo) that each side opens by path, as two unrelated programs would. The
// parent creates them 0600 in a private temporary directory and removes them as soon as both sides
// have opened them (and again on every exit path). Stream framing; blocking.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include <fmt/format.h>

#include "engine/fd_session.hpp"
#include "engine/registry.hpp"
#include "ipckit/stream/fifo.hpp"

namespace ipckit::bench {
namespace {

class FifoSession final : public FdSession {
 public:
  FifoSession() noexcept : FdSession(Kind::kStream, false, false) {}
  ~FifoSession() override { remove(); }

  Result<void> create(Pattern pattern) {
    rtt_ = pattern == Pattern::kRtt;
    // "/tmp/ipckit.bench.<pid>.XXXXXX": attributable to this run like the other objects' names.
    std::string tmpl = "/tmp" + unique_object_name() + ".XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) return last_errno().fail("mkdtemp", ipckit::quoted(tmpl));
    dir_ = tmpl;
    for (int p = 0; p < (rtt_ ? 2 : 1); ++p) {
      paths_[p] = fmt::format("{}/fifo{}", dir_, p);
      if (auto r = Fifo::create(paths_[p]); !r) return fail(r.error());  // O_EXCL-like, 0600
    }
    ends_[0] = {rtt_ ? 2 : -1, 1};
    ends_[1] = {0, rtt_ ? 3 : -1};
    return {};
  }

  Result<void> prepare(Role role) override {
    // Both sides open FIFO 0 first, then FIFO 1: opens rendezvous in the same order, no deadlock.
    for (int p = 0; p < (rtt_ ? 2 : 1); ++p) {
      const bool writes = (role == Role::kSender) == (p == 0);
      UniqueFd fd;
      if (writes) {
        auto w = Fifo::open_writer(paths_[p]);
        if (!w) return fail(w.error());
        fd = w->release();
      } else {
        auto r = Fifo::open_reader(paths_[p]);
        if (!r) return fail(r.error());
        fd = r->release();
      }
      // ipckit keeps its own ends O_NONBLOCK; the bench runs kernel mechanisms blocking.
      if (auto r = set_nonblocking(fd.get(), false); !r) return r;
      owned_[static_cast<std::size_t>(2 * p + (writes ? 1 : 0))] = std::move(fd);
    }
    return FdSession::prepare(role);
  }

  void after_ready() noexcept override { remove(); }

 private:
  void remove() noexcept {
    for (auto& p : paths_) {
      if (!p.empty()) (void)Fifo::remove(p);
      p.clear();
    }
    if (!dir_.empty()) ::rmdir(dir_.c_str());
    dir_.clear();
  }
  bool rtt_ = false;
  std::string dir_;
  std::string paths_[2];
};

class FifoMechanism final : public Mechanism {
 public:
  std::string_view name() const noexcept override { return "fifo"; }
  std::string_view description() const noexcept override {
    return "mkfifo in a private /tmp directory, opened by path by each side; stream framing";
  }
  Wait wait() const noexcept override { return Wait::kBlocking; }
  bool supports(Pattern) const noexcept override { return true; }
  Result<std::unique_ptr<Session>> open(Pattern pattern, std::size_t) const override {
    auto s = std::make_unique<FifoSession>();
    if (auto r = s->create(pattern); !r) return fail(r.error());
    return std::unique_ptr<Session>(std::move(s));
  }
};

}  // namespace

const Mechanism& fifo_mechanism() {
  static const FifoMechanism m;
  return m;
}

}  // namespace ipckit::bench
