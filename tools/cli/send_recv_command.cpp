// SPDX-License-Identifier: Apache-2.0
// `ipckit send URL` and `ipckit recv URL`: move messages between stdin/stdout and any mechanism.
//
// All IPC goes through the endpoint layer (open_sender/open_receiver); this file only turns stdin into
// messages and messages into stdout, and maps outcomes to exit codes:
//   0 success · 1 failure (one line on stderr) · 2 bad usage (URL, options) · 130/143 interrupted
//   (SIGINT/SIGTERM) · pipe: the child's exit code (128 + signal when it was killed).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "commands.hpp"
#include "ipckit/core/io.hpp"
#include "ipckit/endpoint/endpoint.hpp"

namespace ipckit::cli {
namespace {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
// Long waits are cut into slices this long so that Ctrl-C is noticed promptly: the library retries
// EINTR (as it must), so a signal alone does not end a blocking call.
constexpr auto kSlice = std::chrono::milliseconds(100);

volatile std::sig_atomic_t g_signal = 0;

extern "C" void on_signal(int sig) { g_signal = sig; }

// SIGINT/SIGTERM set a flag instead of killing the process, so --remove-on-exit still runs and the
// exit is orderly. No SA_RESTART: a blocking read of stdin returns EINTR at once.
void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

bool interrupted() { return g_signal != 0; }
int interrupted_exit() { return 128 + static_cast<int>(g_signal); }

struct Args {
  std::string url;
  std::vector<std::string> command;
  bool create = false;
  bool lines = false;
  bool raw = false;
  bool hex = false;
  bool remove_on_exit = false;
  std::size_t count = 0;  // 0: not given
  double timeout = -1;    // seconds; < 0: the command's default
  std::string size;
  int ready_fd = -1;
};

class Command {
 public:
  Command(const char* name, const Args& a) : name_(name), a_(a) {}

  int fail_with(int code, const std::string& text) const {
    std::fprintf(stderr, "ipckit %s: %s\n", name_, text.c_str());
    return code;
  }
  int fail_with(int code, const Error& e) const { return fail_with(code, e.str()); }

  // Checks the options and fills `opts`; an exit code on bad usage.
  std::optional<int> prepare(Url& url, EndpointOptions& opts) {
    auto u = parse_url(a_.url);
    if (!u) return fail_with(kExitUsage, u.error());
    url = std::move(*u);
    if (a_.lines && a_.raw) return fail_with(kExitUsage, "--lines and --raw exclude each other");
    if (!a_.command.empty() && url.scheme != Scheme::kPipe) {
      return fail_with(kExitUsage, fmt::format("a command after -- is only for pipe: (got {} for {})",
                                               fmt::join(a_.command, " "), a_.url));
    }
    if (url.scheme == Scheme::kPipe && a_.command.empty() && url.command.empty()) {
      return fail_with(kExitUsage, fmt::format("pipe: needs a command; expected {}", expected_form(Scheme::kPipe)));
    }
    if (!a_.size.empty()) {
      auto s = parse_size(a_.size, "--size");
      if (!s) return fail_with(kExitUsage, s.error());
      if (*s == 0) return fail_with(kExitUsage, "--size must be at least 1 byte");
      opts.max_message = *s;
    }
    if (a_.ready_fd >= 0 && ::fcntl(a_.ready_fd, F_GETFD) < 0) {
      return fail_with(kExitUsage, fmt::format("--ready-fd {}: not an open file descriptor", a_.ready_fd));
    }
    opts.create = a_.create;
    if (a_.lines) opts.framing = Framing::kLines;
    if (a_.raw) opts.framing = Framing::kRaw;
    opts.command = !a_.command.empty() ? a_.command : url.command;
    if (a_.timeout >= 0) {
      opts.open_timeout = std::chrono::milliseconds(static_cast<long long>(a_.timeout * 1000));
    }
    opts.should_stop = [] { return interrupted(); };
    return std::nullopt;
  }

  // One byte on --ready-fd, then close it: the waiting side sees the byte (or end of file if we died).
  std::optional<int> signal_ready() const {
    if (a_.ready_fd < 0) return std::nullopt;
    const char byte = 1;
    auto w = write_full(a_.ready_fd, as_bytes(std::string_view(&byte, 1)), nullptr, "--ready-fd");
    ::close(a_.ready_fd);
    if (!w) return fail_with(kExitFailure, w.error());
    return std::nullopt;
  }

  const char* name_;
  const Args& a_;
};

// Reads stdin in slices so Ctrl-C is seen while waiting for input.
class StdinReader {
 public:
  // Appends up to `want` bytes; false at end of input.
  Result<bool> read_more(std::string& buf, std::size_t want) {
    if (eof_) return false;
    const std::size_t old = buf.size();
    buf.resize(old + want);
    for (;;) {
      if (interrupted()) {
        buf.resize(old);
        return true;
      }
      pollfd p{0, POLLIN, 0};
      const int pr = ::poll(&p, 1, static_cast<int>(kSlice.count()));
      if (pr < 0 && errno != EINTR) {
        buf.resize(old);
        return last_errno().fail("poll", "stdin");
      }
      if (pr <= 0) continue;
      const ssize_t n = ::read(0, buf.data() + old, want);
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        const int err = errno;
        buf.resize(old);
        return fail_errno(err, "read", "stdin");
      }
      buf.resize(old + static_cast<std::size_t>(n));
      if (n == 0) eof_ = true;
      return n > 0;
    }
  }

 private:
  bool eof_ = false;
};

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Splits stdin into messages: lines (--lines, --hex) or chunks of `chunk` bytes.
class MessageSource {
 public:
  MessageSource(bool lines, bool hex, std::size_t chunk) : lines_(lines || hex), hex_(hex), chunk_(chunk) {}

  // The next message, nullopt at end of input (or on interrupt).
  Result<std::optional<std::string>> next() {
    for (;;) {
      if (interrupted()) return std::nullopt;
      const std::string_view rest(buf_.data() + pos_, buf_.size() - pos_);
      if (lines_) {
        const std::size_t nl = rest.find('\n');
        if (nl != std::string_view::npos || (at_eof_ && !rest.empty())) {
          const std::size_t len = nl == std::string_view::npos ? rest.size() : nl;
          std::string line(rest.substr(0, len));
          pos_ += nl == std::string_view::npos ? len : len + 1;
          ++line_no_;
          if (!hex_) return std::optional<std::string>(std::move(line));
          return decode_hex(line);
        }
      } else if (rest.size() >= chunk_ || (at_eof_ && !rest.empty())) {
        const std::size_t len = std::min(rest.size(), chunk_);
        std::string msg(rest.substr(0, len));
        pos_ += len;
        return std::optional<std::string>(std::move(msg));
      }
      if (at_eof_) return std::nullopt;
      if (pos_ > 0) {
        buf_.erase(0, pos_);
        pos_ = 0;
      }
      auto r = in_.read_more(buf_, std::max<std::size_t>(chunk_, 64 * 1024));
      if (!r) return fail(r.error());
      if (!*r && !interrupted()) at_eof_ = true;
    }
  }

 private:
  Result<std::optional<std::string>> decode_hex(std::string_view line) const {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (line.size() % 2 != 0) {
      return fail_library(LibraryCode::kInvalidArgument, "--hex", fmt::format("stdin line {}", line_no_),
                          "odd number of hex digits");
    }
    std::string out(line.size() / 2, '\0');
    for (std::size_t i = 0; i < out.size(); ++i) {
      const int hi = hex_value(line[2 * i]);
      const int lo = hex_value(line[2 * i + 1]);
      if (hi < 0 || lo < 0) {
        return fail_library(LibraryCode::kInvalidArgument, "--hex", fmt::format("stdin line {}", line_no_),
                            fmt::format("\"{}\" is not a hex digit pair", line.substr(2 * i, 2)));
      }
      out[i] = static_cast<char>(hi * 16 + lo);
    }
    return std::optional<std::string>(std::move(out));
  }

  StdinReader in_;
  bool lines_;
  bool hex_;
  std::size_t chunk_;
  std::string buf_;
  std::size_t pos_ = 0;
  bool at_eof_ = false;
  std::size_t line_no_ = 0;
};

int child_exit_or(const std::optional<int>& status, int otherwise) { return status ? *status : otherwise; }

int run_send(const Args& a) {
  install_signal_handlers();
  Command cmd("send", a);
  Url url;
  EndpointOptions opts;
  if (auto code = cmd.prepare(url, opts)) return *code;
  const std::chrono::duration<double> per_op(a.timeout >= 0 ? a.timeout : 5.0);

  auto opened = open_sender(url, opts);
  if (!opened) {
    if (interrupted()) return interrupted_exit();
    return cmd.fail_with(kExitFailure, opened.error());
  }
  auto& tx = **opened;
  int code = 0;
  auto finish_remove = [&](int c) {
    if (a.remove_on_exit) {
      if (auto r = tx.remove_object(); !r && c == 0) c = cmd.fail_with(kExitFailure, r.error());
    }
    return c;
  };
  if (auto c = cmd.signal_ready()) return finish_remove(*c);

  const std::size_t chunk = a.size.empty() ? std::min(tx.max_message_size(), kDefaultMaxMessage)
                                           : opts.max_message;
  MessageSource source(a.lines, a.hex, chunk);
  std::vector<std::string> kept;  // --count N > 1: stdin is read once and sent N times
  const std::size_t rounds = a.count == 0 ? 1 : a.count;
  std::size_t sent = 0;
  bool peer_closed = false;

  auto send_one = [&](const std::string& msg) -> std::optional<int> {
    const Deadline limit = deadline_after(per_op);
    for (;;) {
      auto r = tx.send_until(as_bytes(msg), std::min(limit, deadline_after(kSlice)));
      if (!r) return cmd.fail_with(kExitFailure, r.error());
      if (*r == SendStatus::kOk) {
        ++sent;
        return std::nullopt;
      }
      if (*r == SendStatus::kPeerClosed) {
        peer_closed = true;
        return std::nullopt;
      }
      if (interrupted()) return interrupted_exit();
      if (Clock::now() >= limit) {
        return cmd.fail_with(kExitFailure, fmt::format("send({}): timed out: the receiver took no message for {} s "
                                                       "(raise it with --timeout)",
                                                       ipckit::quoted(a.url), per_op.count()));
      }
    }
  };

  for (std::size_t round = 0; round < rounds && !peer_closed && code == 0; ++round) {
    if (round == 0) {
      for (;;) {
        auto m = source.next();
        if (!m) {
          code = cmd.fail_with(kExitFailure, m.error());
          break;
        }
        if (!*m) break;
        if (rounds > 1) kept.push_back(**m);
        if (auto c = send_one(**m)) {
          code = *c;
          break;
        }
        if (peer_closed) break;
      }
      if (interrupted() && code == 0) code = interrupted_exit();
    } else {
      for (const auto& m : kept) {
        if (auto c = send_one(m)) {
          code = *c;
          break;
        }
        if (peer_closed) break;
      }
    }
  }

  if (code == 0 || url.scheme == Scheme::kPipe) {
    // End the stream (and for pipe: wait for the child, whose exit code becomes ours).
    const Deadline limit = url.scheme == Scheme::kPipe ? kNoDeadline : deadline_after(per_op);
    for (;;) {
      auto r = tx.finish_until(std::min(limit, deadline_after(kSlice)));
      if (!r) {
        if (code == 0) code = cmd.fail_with(kExitFailure, r.error());
        break;
      }
      if (*r == SendStatus::kPeerClosed) peer_closed = true;
      if (*r != SendStatus::kTimedOut) break;
      if (interrupted()) {
        if (code == 0) code = interrupted_exit();
        break;
      }
      if (Clock::now() >= limit) {
        if (code == 0) code = cmd.fail_with(kExitFailure, fmt::format("send({}): timed out flushing", ipckit::quoted(a.url)));
        break;
      }
    }
  }
  if (url.scheme == Scheme::kPipe) {
    if (code == 0 || code == 128 + SIGINT || code == 128 + SIGTERM) code = child_exit_or(tx.exit_status(), code);
  } else if (peer_closed && code == 0) {
    code = cmd.fail_with(kExitFailure, fmt::format("send({}): peer closed: the receiver went away after {} messages",
                                                   ipckit::quoted(a.url), sent));
  }
  return finish_remove(code);
}

void append_hex(std::string& out, const std::string& msg) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (unsigned char c : msg) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xf]);
  }
  out.push_back('\n');
}

int run_recv(const Args& a) {
  install_signal_handlers();
  Command cmd("recv", a);
  Url url;
  EndpointOptions opts;
  if (auto code = cmd.prepare(url, opts)) return *code;

  auto opened = open_receiver(url, opts);
  if (!opened) {
    if (interrupted()) return interrupted_exit();
    return cmd.fail_with(kExitFailure, opened.error());
  }
  auto& rx = **opened;
  auto finish_remove = [&](int c) {
    if (a.remove_on_exit) {
      if (auto r = rx.remove_object(); !r && c == 0) c = cmd.fail_with(kExitFailure, r.error());
    }
    return c;
  };
  if (auto c = cmd.signal_ready()) return finish_remove(*c);

  std::string msg;
  std::string out;
  std::size_t received = 0;
  int code = 0;
  bool ended = false;
  const bool idle_limit = a.timeout >= 0;
  const std::chrono::duration<double> idle(idle_limit ? a.timeout : 0.0);
  while (a.count == 0 || received < a.count) {
    const Deadline limit = idle_limit ? deadline_after(idle) : kNoDeadline;
    std::optional<ReceiveStatus> st;
    for (;;) {
      auto r = rx.receive_until(msg, std::min(limit, deadline_after(kSlice)));
      if (!r) {
        code = cmd.fail_with(kExitFailure, r.error());
        break;
      }
      if (*r != ReceiveStatus::kTimedOut) {
        st = *r;
        break;
      }
      if (interrupted()) {
        code = interrupted_exit();
        break;
      }
      if (Clock::now() >= limit) {
        code = cmd.fail_with(kExitFailure, fmt::format("recv({}): timed out: no message for {} s", ipckit::quoted(a.url),
                                                       idle.count()));
        break;
      }
    }
    if (!st) break;
    if (*st == ReceiveStatus::kPeerDied) {
      code = cmd.fail_with(kExitFailure, fmt::format("recv({}): peer died: the sender was found dead after {} messages",
                                                     ipckit::quoted(a.url), received));
      break;
    }
    if (*st == ReceiveStatus::kEndOfStream) {
      ended = true;
      break;
    }
    ++received;
    out.clear();
    if (a.hex) {
      append_hex(out, msg);
    } else {
      out = msg;
      if (a.lines) out.push_back('\n');
    }
    auto w = write_full(1, as_bytes(out), nullptr, "stdout");
    if (!w) {
      code = cmd.fail_with(kExitFailure, w.error());
      break;
    }
    if (w->status == IoStatus::kPeerClosed) {
      code = cmd.fail_with(kExitFailure, "write(stdout): EPIPE: the reader of stdout went away");
      break;
    }
  }
  if (code == 0 && ended && a.count != 0 && received < a.count && url.scheme != Scheme::kPipe) {
    code = cmd.fail_with(kExitFailure, fmt::format("recv({}): end of stream after {} of {} messages", ipckit::quoted(a.url),
                                                   received, a.count));
  }
  if (url.scheme == Scheme::kPipe) {
    // The child's exit code is ours; an interrupt has reached the child too (same process group).
    for (;;) {
      auto r = rx.finish_until(deadline_after(kSlice));
      if (!r) {
        if (code == 0) code = cmd.fail_with(kExitFailure, r.error());
        break;
      }
      if (*r != ReceiveStatus::kTimedOut) {
        // A child killed by SIGPIPE because we stopped reading at --count did nothing wrong (as
        // `yes | head -3` succeeds in a shell).
        const bool stopped_early = a.count != 0 && received == a.count;
        if (code == 0 && !(stopped_early && rx.exit_status() == 128 + SIGPIPE)) {
          code = child_exit_or(rx.exit_status(), code);
        }
        break;
      }
      if (interrupted() && code == 0) code = interrupted_exit();
      if (interrupted()) break;
    }
  }
  return finish_remove(code);
}

constexpr const char* kUrlHelp =
    "URLs (one per mechanism):\n"
    "  pipe: -- CMD ARGS        a child process: send feeds its stdin, recv reads its stdout\n"
    "  fifo:/path               FIFO (named pipe)\n"
    "  mq:/name                 POSIX message queue    ?maxmsg=10&msgsize=8192&priority=0&mode=0600\n"
    "  sysvmq:0xKEY             System V message queue  (or sysvmq:/path?proj=N, proj 1 by default; ?type=N)\n"
    "  unix:/path  unix:@name   UNIX stream socket (path or abstract name)\n"
    "  unix-dgram:/path         UNIX datagram socket (also @name)\n"
    "  unix-seqpacket:/path     UNIX seqpacket socket (also @name)\n"
    "  tcp:HOST:PORT            TCP (IPv6: tcp:[::1]:9000; any address: tcp:*:9000)\n"
    "  udp:HOST:PORT            UDP (IPv6: udp:[::1]:9000)\n"
    "  chan:/name               the ipckit channel     ?pattern=spsc|mpmc|broadcast&capacity=1MiB&max=64KiB\n"
    "The receiver binds/listens/creates; the sender connects, retrying until --timeout.\n"
    "Byte streams (fifo, unix, tcp) carry u32 little-endian length frames unless --lines or --raw;\n"
    "pipe: is raw unless --lines.\n";

constexpr const char* kExamples =
    "Examples:\n"
    "  ipckit recv unix:/tmp/s.sock --lines &      then   echo hello | ipckit send unix:/tmp/s.sock --lines\n"
    "  ipckit recv mq:/jobs --create --count 1     then   echo job1 | ipckit send mq:/jobs --lines\n"
    "  ipckit recv tcp:127.0.0.1:9000 --raw > file        ipckit send tcp:127.0.0.1:9000 --raw < file\n"
    "  socat - UNIX-LISTEN:/tmp/s.sock             then   echo hi | ipckit send unix:/tmp/s.sock --lines\n"
    "  ipckit send pipe: -- sort -n < numbers.txt\n"
    "  ipckit recv fifo:/tmp/f --create --remove-on-exit --hex\n";

void add_common(CLI::App* sub, Args& a) {
  sub->add_option("url", a.url, "Endpoint URL, e.g. unix:/tmp/s.sock, tcp:127.0.0.1:9000, mq:/jobs")->required();
  sub->add_option("command", a.command, "pipe: only: the command after --");
  sub->add_flag("--create", a.create, "Create a missing fifo/mq/sysvmq/chan object (sockets: no-op)");
  sub->add_flag("--lines", a.lines, "One line = one message (newline framing on byte streams)");
  sub->add_flag("--raw", a.raw, "Plain bytes on byte streams, no framing (for socat, nc, cat)");
  sub->add_option("--count", a.count, "send: send the input N times; recv: stop after N messages");
  sub->add_option("--size", a.size,
                  "Largest message (e.g. 4096, 64KiB; default 64KiB or the mechanism's limit); send without "
                  "--lines splits stdin into chunks of this size");
  sub->add_option("--ready-fd", a.ready_fd, "Write one byte to fd N once ready (bound/listening/open/connected)");
  sub->add_flag("--remove-on-exit", a.remove_on_exit,
                "Remove the object the URL names when the command ends (fifo, mq, sysvmq, chan, socket path)");
  sub->footer(std::string(kUrlHelp) + "\n" + kExamples);
}

}  // namespace

void add_send_recv_commands(CLI::App& app, Context& ctx) {
  static Args send_args;
  static Args recv_args;

  auto* send = app.add_subcommand("send", "Send stdin as messages to URL: ipckit send URL [options] [-- CMD ARGS]");
  add_common(send, send_args);
  send->add_flag("--hex", send_args.hex, "Each stdin line is one message written in hex");
  send->add_option("--timeout", send_args.timeout,
                   "Seconds to keep trying to connect/open, and the most one message may wait (default 5)");
  send->callback([&ctx] { ctx.exit_code = run_send(send_args); });

  auto* recv = app.add_subcommand("recv", "Receive messages from URL to stdout: ipckit recv URL [options] [-- CMD ARGS]");
  add_common(recv, recv_args);
  recv->add_flag("--hex", recv_args.hex, "Print each message on its own line in hex");
  recv->add_option("--timeout", recv_args.timeout, "Fail when no message arrives for S seconds (default: wait)");
  recv->callback([&ctx] { ctx.exit_code = run_recv(recv_args); });

  app.footer(app.get_footer() + (app.get_footer().empty() ? "" : "\n") + kUrlHelp + "\n" + kExamples);
}

}  // namespace ipckit::cli
