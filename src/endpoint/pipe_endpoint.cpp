// SPDX-License-Identifier: Apache-2.0
// pipe: -- CMD ARGS: an anonymous pipe to the child's stdin (sender) or from its stdout (receiver),
// through stream/subprocess.hpp. Raw by default (the child is an ordinary program); --lines frames
// lines. The child's exit code is the endpoint's exit_status().
#include <csignal>

#include "adapters.hpp"
#include "framed_stream.hpp"
#include "ipckit/stream/subprocess.hpp"

namespace ipckit::detail {
namespace {

int exit_code(const ExitStatus& s) { return s.exited ? s.code : 128 + s.signal; }

// The Subprocess owns the pipe end; these adapt it to the framed stream templates.
struct ChildStdin {
  Subprocess proc;
  [[nodiscard]] Result<IoResult> write_all_until(std::span<const std::byte> buf, Deadline deadline) {
    return proc.in()->write_all_until(buf, deadline);
  }
};
struct ChildStdout {
  Subprocess proc;
  [[nodiscard]] Result<IoResult> read_some_until(std::span<std::byte> buf, Deadline deadline) {
    return proc.out()->read_some_until(buf, deadline);
  }
};

Result<ReceiveStatus> wait_child(Subprocess& proc, std::optional<int>& status, Deadline deadline) {
  if (status) return ReceiveStatus::kOk;
  auto w = proc.wait_until(deadline);
  if (!w) return fail(w.error());
  if (!*w) return ReceiveStatus::kTimedOut;
  status = exit_code(**w);
  return ReceiveStatus::kOk;
}

class PipeSender final : public FramedStreamSender<ChildStdin> {
 public:
  PipeSender(Url url, const EndpointOptions& options, Subprocess proc)
      : FramedStreamSender(std::move(url), options, ChildStdin{std::move(proc)}) {}

  [[nodiscard]] Result<SendStatus> finish_until(Deadline deadline) override {
    // A child that stopped reading (head -1) ends the stream early: still wait for its exit code.
    auto r = FramedStreamSender::finish_until(deadline);
    if (!r) return r;
    if (*r == SendStatus::kTimedOut) return r;
    if (stream().proc.in() != nullptr) (void)stream().proc.in()->close();
    auto w = wait_child(stream().proc, status_, deadline);
    if (!w) return fail(w.error());
    if (*w == ReceiveStatus::kTimedOut) return SendStatus::kTimedOut;
    return *r;
  }
  [[nodiscard]] std::optional<int> exit_status() const override { return status_; }

 protected:
  [[nodiscard]] Result<SendStatus> end_stream(Deadline /*deadline*/) override {
    (void)stream().proc.in()->close();  // the child reads end of stream
    return SendStatus::kOk;
  }

 private:
  std::optional<int> status_;
};

class PipeReceiver final : public FramedStreamReceiver<ChildStdout> {
 public:
  PipeReceiver(Url url, const EndpointOptions& options, Subprocess proc) : FramedStreamReceiver(std::move(url), options) {
    stream_.emplace(ChildStdout{std::move(proc)});
  }
  // Closes our read end first: a child still writing (we stopped at --count) then gets EPIPE or
  // SIGPIPE instead of blocking forever on a full pipe.
  [[nodiscard]] Result<ReceiveStatus> finish_until(Deadline deadline) override {
    if (stream_->proc.out() != nullptr) (void)stream_->proc.out()->close();
    return wait_child(stream_->proc, status_, deadline);
  }
  [[nodiscard]] std::optional<int> exit_status() const override { return status_; }

 private:
  std::optional<int> status_;
};

const std::vector<std::string>& command_of(const Url& url, const EndpointOptions& options) {
  return options.command.empty() ? url.command : options.command;
}

}  // namespace

Result<SenderPtr> open_pipe_sender(const Url& url, const EndpointOptions& options) {
  SubprocessOptions so;
  so.in = Stdio::pipe();
  auto p = Subprocess::spawn(command_of(url, options), so);
  if (!p) return fail(p.error());
  return SenderPtr(new PipeSender(url, options, std::move(*p)));
}

Result<ReceiverPtr> open_pipe_receiver(const Url& url, const EndpointOptions& options) {
  SubprocessOptions so;
  so.out = Stdio::pipe();
  auto p = Subprocess::spawn(command_of(url, options), so);
  if (!p) return fail(p.error());
  return ReceiverPtr(new PipeReceiver(url, options, std::move(*p)));
}

}  // namespace ipckit::detail
