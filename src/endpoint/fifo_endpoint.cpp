// SPDX-License-Identifier: Apache-2.0
// fifo:/path: FIFOs (stream/fifo.hpp), framed (framing.hpp).
//
// The receiver opens its end without waiting (so it can report ready, and writers can open), then
// waits on its first receive for a writer: Linux reports POLLIN/POLLHUP on a FIFO read end only after
// a writer has opened it since, while read() would say "end of stream" at once.
#include <poll.h>

#include <cerrno>

#include "adapters.hpp"
#include "framed_stream.hpp"
#include "ipckit/core/poll.hpp"
#include "ipckit/stream/fifo.hpp"

namespace ipckit::detail {
namespace {

class FifoSender final : public FramedStreamSender<PipeWriter> {
 public:
  FifoSender(Url url, const EndpointOptions& options, PipeWriter writer)
      : FramedStreamSender(std::move(url), options, std::move(writer)) {}
  [[nodiscard]] Result<void> remove_object() override { return Fifo::remove(url().address); }

 protected:
  [[nodiscard]] Result<SendStatus> end_stream(Deadline /*deadline*/) override {
    (void)stream().close();  // the last writer's close is the reader's end of stream
    return SendStatus::kOk;
  }
};

class FifoReceiver final : public FramedStreamReceiver<PipeReader> {
 public:
  FifoReceiver(Url url, const EndpointOptions& options, PipeReader reader)
      : FramedStreamReceiver(std::move(url), options), reader_(std::move(reader)) {}
  [[nodiscard]] Result<void> remove_object() override { return Fifo::remove(url().address); }

 protected:
  [[nodiscard]] Result<bool> ensure_stream(Deadline deadline) override {
    if (stream_) return true;
    auto ready = poll_one(reader_.native_handle(), POLLIN, deadline);
    if (!ready) return fail(ready.error());
    if (*ready == 0) return false;
    stream_ = std::move(reader_);
    return true;
  }

 private:
  PipeReader reader_;
};

Result<void> maybe_create(const Url& url, const EndpointOptions& options) {
  if (!options.create) return {};
  return Fifo::create(url.address, OpenMode::kOpenOrCreate, effective_mode(url, options));
}

}  // namespace

Result<SenderPtr> open_fifo_sender(const Url& url, const EndpointOptions& options) {
  if (auto r = maybe_create(url, options); !r) return fail(r.error());
  std::optional<Error> last;
  auto w = retry_until<PipeWriter>(url, options, [&]() -> Result<std::optional<PipeWriter>> {
    auto t = Fifo::try_open_writer(url.address, FifoOpenOptions{effective_mode(url, options)});
    if (t) return std::optional<PipeWriter>(std::move(*t));
    if (t.error().is(ENXIO)) {  // no reader yet
      last = t.error();
      return std::optional<PipeWriter>();
    }
    return fail(explain_missing(url, t.error()));
  });
  if (!w) return fail(w.error());
  if (!*w) return open_timed_out(url, options, "reader", last);
  return SenderPtr(new FifoSender(url, options, std::move(**w)));
}

Result<ReceiverPtr> open_fifo_receiver(const Url& url, const EndpointOptions& options) {
  if (auto r = maybe_create(url, options); !r) return fail(r.error());
  auto r = Fifo::try_open_reader(url.address, FifoOpenOptions{effective_mode(url, options)});
  if (!r) return fail(explain_missing(url, r.error()));
  return ReceiverPtr(new FifoReceiver(url, options, std::move(*r)));
}

}  // namespace ipckit::detail
