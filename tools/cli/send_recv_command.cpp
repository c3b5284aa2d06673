// SPDX-License-Identifier: Apache-2.0
// `ipckit send URL` and `ipckit recv URL`: move messages between stdin/stdout and any mechanism.
//
// All IPC goes through the endpoint layer (open_sender/open_receiver); this file only turns stdin into
// messages and messages into stdout, and maps outcomes to exit codes:
//   0 success (also: recv's stdout closed by its reader, as `recv | head -2`) · 1 failure (one line on
//   stderr) · 2 bad usage (URL, options) · 126/127 pipe: command not runnable / not found · 130/143
//   interrupted (SIGINT/SIGTERM) · pipe: the child's exit code (128 + signal when it was killed).
// Every numeric option is parsed by core/units.hpp and range-checked (docs/cli.md lists the ranges).
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
#include "ipckit/core/units.hpp"
#include "ipckit/endpoint/endpoint.hpp"
#include "ipckit/message/posix_mq.hpp"

namespace ipckit::cli {

// The library's hints name C++ options (EndpointOptions::create, SysvOversize::kTruncate); at the
// shell the same advice names flags, URL options and commands. The library keeps its wording; the
// CLI rewrites the known phrases here.
std::string for_shell(const Error& e) {
  std::string text = e.str();
  auto replace = [&](std::string_view from, std::string_view to) {
    if (auto at = text.find(from); at != std::string::npos) text.replace(at, from.size(), to);
  };
  replace(" (EndpointOptions::create)", "");
  replace(" (Framing::kRaw)", "");
  replace("pass a larger max_size, or SysvOversize::kTruncate (MSG_NOERROR) to cut it", "raise it with --size");
  replace("(unlink_socket)", "(rm the socket file)");
  // The channel's "a spsc channel (pattern 1), not mpmc (2): open it with the matching endpoint type".
  if (auto at = text.find("open it with the matching endpoint type"); at != std::string::npos) {
    const std::string_view kIs = "the channel is a ";
    const auto is = text.find(kIs);
    const auto end = is == std::string::npos ? std::string::npos : text.find(' ', is + kIs.size());
    const std::string pattern = end == std::string::npos ? std::string("PATTERN") : text.substr(is + kIs.size(), end - is - kIs.size());
    text.replace(at, std::string_view("open it with the matching endpoint type").size(),
                 fmt::format("put ?pattern={} in the URL", pattern));
  }
  // An abstract name has no file: "its file behind" only applies to socket paths.
  if (e.object().rfind("\"@", 0) == 0 || e.object().find("\"unix:@") != std::string::npos ||
      e.object().find(":@") != std::string::npos) {
    replace("nobody is listening on this socket (a server that exited leaves its file behind)",
            "nobody is listening on this abstract name (start ipckit recv first)");
  }
  if (e.is(EACCES)) {
    if (e.object().find("mq:") != std::string::npos || e.call().rfind("mq_", 0) == 0) {
      text += " (another user's queue: its creator can open it to you with ?mode=0660 and a shared group)";
    } else if (text.find("Permission denied") != std::string::npos) {
      text += " (check the owner and mode: ls -l the path, or ipcs -q for sysvmq; a creator shares with ?mode=0660)";
    }
  }
  return text;
}

namespace {

// send's default for --timeout: how long to look for a receiver, and the most one message may wait.
constexpr Seconds kSendDefaultTimeout{5.0};
// The largest --size: the channel's own max (a message above 1 GiB is no message).
constexpr std::uint64_t kMaxSizeOption = kChannelMaxMessage;
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
  bool no_end_marker = false;
  bool hex = false;
  bool remove_on_exit = false;
  bool verbose = false;
  bool show_priority = false;  // recv, mq: only
  // As typed; parsed and range-checked by Command::prepare() (core/units.hpp).
  std::string count;
  std::string timeout;
  std::string size;
  std::string ready_fd;
  std::string priority;  // send, mq: only
};

// The numeric options once checked.
struct Numbers {
  std::uint64_t count = 0;        // 0: not given (send once; recv until the end of the stream)
  std::optional<Seconds> timeout;  // not given: the command's default
  std::uint64_t size = 0;          // 0: not given
  int ready_fd = -1;               // -1: not given
};

// "1 message", "2 messages".
std::string messages(std::uint64_t n) { return fmt::format("{} message{}", n, n == 1 ? "" : "s"); }

// A timeout as EndpointOptions::open_timeout; "forever" saturates (deadline_after then never passes).
std::chrono::milliseconds to_open_timeout(Seconds t) {
  if (timeout_is_forever(t)) return std::chrono::milliseconds::max();
  return std::chrono::ceil<std::chrono::milliseconds>(t);
}

class Command {
 public:
  Command(const char* name, const Args& a) : name_(name), a_(a) {}

  // Parses and range-checks the numeric options (docs/cli.md, "Numeric options").
  std::optional<int> parse_numbers() {
    if (!a_.count.empty()) {
      auto c = parse_count(a_.count, "--count", 1);
      if (!c) return fail_with(kExitUsage, c.error());
      n_.count = *c;
    }
    if (!a_.timeout.empty()) {
      auto t = parse_duration(a_.timeout, "--timeout");
      if (!t) return fail_with(kExitUsage, t.error());
      n_.timeout = *t;
    }
    if (!a_.size.empty()) {
      auto s = parse_size(a_.size, "--size", {1, kMaxSizeOption});
      if (!s) return fail_with(kExitUsage, s.error());
      n_.size = *s;
    }
    if (!a_.ready_fd.empty()) {
      // 0-2 are stdin, stdout and stderr: a ready byte there would corrupt the data or the messages.
      auto fd = parse_count(a_.ready_fd, "--ready-fd", 3, std::numeric_limits<int>::max());
      if (!fd) return fail_with(kExitUsage, fd.error());
      n_.ready_fd = static_cast<int>(*fd);
      if (::fcntl(n_.ready_fd, F_GETFD) < 0) {
        return fail_with(kExitUsage, fmt::format("--ready-fd {}: not an open file descriptor", n_.ready_fd));
      }
    }
    return std::nullopt;
  }

  [[nodiscard]] const Numbers& numbers() const { return n_; }

  int fail_with(int code, const std::string& text) const {
    std::fprintf(stderr, "ipckit %s: %s\n", name_, text.c_str());
    return code;
  }
  int fail_with(int code, const Error& e) const { return fail_with(code, for_shell(e)); }

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
    if (auto code = parse_numbers()) return code;
    if (auto code = check_priority_options(url, opts)) return code;
    if (n_.size != 0) opts.max_message = static_cast<std::size_t>(n_.size);
    opts.create = a_.create;
    if (a_.lines) opts.framing = Framing::kLines;
    if (a_.raw) opts.framing = Framing::kRaw;
    opts.end_marker = !a_.no_end_marker;
    opts.command = !a_.command.empty() ? a_.command : url.command;
    if (n_.timeout) opts.open_timeout = to_open_timeout(*n_.timeout);
    opts.should_stop = [] { return interrupted(); };
    if (a_.verbose) {
      const char* name = name_;
      opts.verbose = [name](const std::string& line) { std::fprintf(stderr, "ipckit %s: %s\n", name, line.c_str()); };
      say_options(url, opts);
    }
    return std::nullopt;
  }

  // send --priority N and recv --show-priority: POSIX message queues only (docs/cli.md).
  std::optional<int> check_priority_options(const Url& url, EndpointOptions& opts) const {
    if (!a_.priority.empty()) {
      if (url.scheme != Scheme::kMq) {
        return fail_with(kExitUsage, fmt::format("--priority is only for mq: URLs (got {})", to_string(url.scheme)));
      }
      if (url.option("priority")) {
        return fail_with(kExitUsage, "give the priority once: --priority or the URL's ?priority=, not both");
      }
      // MQ_PRIO_MAX on Linux is 32768 (sysconf(_SC_MQ_PRIO_MAX)); priorities are 0 .. 32767.
      auto p = parse_count(a_.priority, "--priority", 0, kMqPriorityLimit - 1);
      if (!p) return fail_with(kExitUsage, p.error());
      opts.priority = static_cast<unsigned>(*p);
    }
    if (a_.show_priority) {
      if (url.scheme != Scheme::kMq) {
        return fail_with(kExitUsage,
                         fmt::format("--show-priority is only for mq: URLs (got {})", to_string(url.scheme)));
      }
      if (!a_.lines && !a_.hex) {
        return fail_with(kExitUsage, "--show-priority needs --lines or --hex (it prints the priority, a tab, "
                                     "then the message on one line)");
      }
    }
    return std::nullopt;
  }

  // -v: one line on stderr ("ipckit send: ...").
  void say(const std::string& line) const {
    if (a_.verbose) std::fprintf(stderr, "ipckit %s: %s\n", name_, line.c_str());
  }

  // -v: whether the end marker is used (docs/endpoints.md, "End of stream").
  static std::string end_marker_text(const Url& url, const EndpointOptions& opts) {
    if (url.scheme == Scheme::kChan) return "the channel's own";
    if (!uses_end_marker(url, opts)) return "none";
    return is_byte_stream(url.scheme) ? "yes (end-of-stream frame)" : "yes (session markers)";
  }

  // -v: the options in effect, defaults included.
  void say_options(const Url& url, const EndpointOptions& opts) const {
    std::string framing = "message boundaries kept";
    if (is_byte_stream(url.scheme)) {
      const Framing f = opts.framing.value_or(url.scheme == Scheme::kPipe ? Framing::kRaw : Framing::kLength);
      framing = fmt::format("{} framing", to_string(f));
    }
    const bool is_send = std::string_view(name_) == "send";
    std::string timeout;
    if (n_.timeout) {
      timeout = format_duration(*n_.timeout);
    } else {
      timeout = is_send ? format_duration(kSendDefaultTimeout) + " (default)" : "none (default: wait forever)";
    }
    const std::string mode = url.option("mode").value_or(fmt::format("{:04o}", static_cast<unsigned>(opts.mode)));
    say(fmt::format("{} {} ({}): {}; end marker {}; max message {}; timeout {}; count {}; create {}; mode {}{}", name_,
                    url.text, to_string(url.scheme), framing, end_marker_text(url, opts),
                    n_.size != 0 ? format_size(n_.size) : format_size(kDefaultMaxMessage) + " (default)", timeout,
                    n_.count != 0 ? std::to_string(n_.count) : std::string(is_send ? "1 (default)" : "until end of stream"),
                    opts.create ? "yes" : "no", mode,
                    a_.remove_on_exit ? "; remove on exit" : ""));
  }

  // One byte on --ready-fd, then close it: the waiting side sees the byte (or end of file if we died).
  std::optional<int> signal_ready() const {
    if (n_.ready_fd < 0) return std::nullopt;
    const char byte = 1;
    auto w = write_full(n_.ready_fd, as_bytes(std::string_view(&byte, 1)), nullptr, "--ready-fd");
    ::close(n_.ready_fd);
    if (!w) return fail_with(kExitFailure, w.error());
    return std::nullopt;
  }

  // The exit code for a failed open: pipe: with a command that cannot be run is 127 (not found) or
  // 126 (not executable), as shells do; anything else 1.
  int open_failed(const Url& url, const Error& e) const {
    int code = kExitFailure;
    if (url.scheme == Scheme::kPipe && e.is_system() && (e.is(ENOENT) || e.is(EACCES) || e.is(ENOEXEC))) {
      code = e.is(ENOENT) ? kExitCommandNotFound : kExitCommandNotFound - 1;
    }
    return fail_with(code, e);
  }

  const char* name_;
  const Args& a_;
  Numbers n_;
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
  const Numbers& n = cmd.numbers();
  const Seconds per_op = n.timeout.value_or(kSendDefaultTimeout);
  if (!n.timeout) opts.open_timeout = to_open_timeout(per_op);

  auto opened = open_sender(url, opts);
  if (!opened) {
    if (interrupted()) return interrupted_exit();
    return cmd.open_failed(url, opened.error());
  }
  auto& tx = **opened;
  cmd.say(fmt::format("open: {} (largest message {})", url.text, format_size(tx.max_message_size())));
  int code = 0;
  auto finish_remove = [&](int c) {
    if (a.remove_on_exit) {
      if (auto r = tx.remove_object(); !r && c == 0) c = cmd.fail_with(kExitFailure, r.error());
    }
    return c;
  };
  if (auto c = cmd.signal_ready()) return finish_remove(*c);

  const std::size_t chunk = n.size == 0 ? std::min(tx.max_message_size(), kDefaultMaxMessage)
                                       : opts.max_message;
  MessageSource source(a.lines, a.hex, chunk);
  std::vector<std::string> kept;  // --count N > 1: stdin is read once and sent N times
  const std::uint64_t rounds = n.count == 0 ? 1 : n.count;
  std::uint64_t sent = 0;
  bool peer_closed = false;

  auto send_one = [&](const std::string& msg) -> std::optional<int> {
    const Deadline limit = deadline_for(per_op);
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
        return cmd.fail_with(kExitFailure, fmt::format("send({}): timed out: {} took no message for {} "
                                                       "(raise it with --timeout, e.g. --timeout 1m or inf)",
                                                       ipckit::quoted(a.url), sent == 0 ? "no receiver" : "the receiver",
                                                       format_duration(per_op)));
      }
    }
  };

  for (std::uint64_t round = 0; round < rounds && !peer_closed && code == 0; ++round) {
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
    const Deadline limit = url.scheme == Scheme::kPipe ? kNoDeadline : deadline_for(per_op);
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
    if (url.scheme == Scheme::kUdp) {
      // A refused datagram (ICMP port unreachable) is all UDP says: nobody was listening.
      code = cmd.fail_with(kExitFailure,
                           fmt::format("send({}): no receiver: the datagram was refused (nothing listens on {}) after "
                                       "{} sent; start `ipckit recv {}` first (udp does not wait for a receiver)",
                                       ipckit::quoted(a.url), url.address, messages(sent), a.url));
    } else {
      code = cmd.fail_with(kExitFailure, fmt::format("send({}): peer closed: the receiver went away after {}",
                                                     ipckit::quoted(a.url), messages(sent)));
    }
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
  const Numbers& n = cmd.numbers();

  auto opened = open_receiver(url, opts);
  if (!opened) {
    if (interrupted()) return interrupted_exit();
    return cmd.open_failed(url, opened.error());
  }
  auto& rx = **opened;
  auto finish_remove = [&](int c) {
    if (a.remove_on_exit) {
      if (auto r = rx.remove_object(); !r && c == 0) c = cmd.fail_with(kExitFailure, r.error());
    }
    return c;
  };
  cmd.say(fmt::format("open: {} (largest message {})", url.text, format_size(rx.max_message_size())));
  if ((url.scheme == Scheme::kTcp || url.scheme == Scheme::kUdp) && url.port != 0) {
    cmd.say("listening on " + rx.listening_address());
  }
  if ((url.scheme == Scheme::kTcp || url.scheme == Scheme::kUdp) && url.port == 0) {
    // Port 0: the kernel chose one; say which. Written before the --ready-fd byte, so a script that
    // waited for it finds the line already on stderr.
    const std::string where = rx.listening_address();
    std::fprintf(stderr, "ipckit recv: listening on %s\n", where.empty() ? "an unknown port" : where.c_str());
    std::fflush(stderr);
  }
  if (auto c = cmd.signal_ready()) return finish_remove(*c);

  std::string msg;
  std::string out;
  std::uint64_t received = 0;
  int code = 0;
  bool ended = false;
  bool stdout_closed = false;
  const Seconds idle = n.timeout.value_or(Seconds(std::numeric_limits<double>::infinity()));
  while (n.count == 0 || received < n.count) {
    const Deadline limit = deadline_for(idle);
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
        code = cmd.fail_with(kExitFailure, fmt::format("recv({}): timed out: no message for {} (after {})",
                                                       ipckit::quoted(a.url), format_duration(idle),
                                                       messages(received)));
        break;
      }
    }
    if (!st) break;
    if (*st == ReceiveStatus::kPeerDied) {
      code = cmd.fail_with(kExitFailure, fmt::format("recv({}): peer died: the sender was found dead after {}",
                                                     ipckit::quoted(a.url), messages(received)));
      break;
    }
    if (*st == ReceiveStatus::kEndOfStream) {
      ended = true;
      break;
    }
    ++received;
    out.clear();
    if (a.show_priority) out = fmt::format("{}\t", rx.last_priority().value_or(0));
    if (a.hex) {
      append_hex(out, msg);
    } else {
      out += msg;
      if (a.lines) out.push_back('\n');
    }
    auto w = write_full(1, as_bytes(out), nullptr, "stdout");
    if (!w) {
      code = cmd.fail_with(kExitFailure, w.error());
      break;
    }
    if (w->status == IoStatus::kPeerClosed) {
      // The reader of stdout closed it (recv | head -2): that is how a shell user says "enough", so
      // recv ends quietly and successfully (cat would die of SIGPIPE; ipckit ignores SIGPIPE).
      stdout_closed = true;
      break;
    }
  }
  if (code == 0 && ended && n.count != 0 && received < n.count && url.scheme != Scheme::kPipe) {
    code = cmd.fail_with(kExitFailure, fmt::format("recv({}): end of stream after {} of {}", ipckit::quoted(a.url),
                                                   received, messages(n.count)));
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
        const bool stopped_early = (n.count != 0 && received == n.count) || stdout_closed;
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
    "  fifo:/path               FIFO (named pipe)                         ?mode=0660\n"
    "  mq:/name                 POSIX message queue    ?maxmsg=10&msgsize=8192&priority=0&mode=0600\n"
    "  sysvmq:0xKEY             System V message queue  (or sysvmq:/path?proj=N, proj 1 by default; ?type=N&mode=0600)\n"
    "  unix:/path  unix:@name   UNIX stream socket (path or abstract name)   ?mode=0660 (path only)\n"
    "  unix-dgram:/path         UNIX datagram socket (also @name)\n"
    "  unix-seqpacket:/path     UNIX seqpacket socket (also @name)\n"
    "  tcp:HOST:PORT            TCP (IPv6: tcp:[::1]:9000; any address: tcp:*:9000)\n"
    "  udp:HOST:PORT            UDP (IPv6: udp:[::1]:9000)\n"
    "  chan:/name               the ipckit channel     ?pattern=spsc|mpmc|broadcast&capacity=1MiB&max=64KiB&mode=0600\n"
    "                           (pattern=broadcast also takes policy=block|lapse: block, the default, waits\n"
    "                           for a receiver and for the slowest; lapse never waits and may drop messages)\n"
    "  nats:HOST:PORT/SUBJECT   NATS via a server (H1:P1,H2:P2 for several; nats+tls:)   ?queue=NAME (recv)\n"
    "                           credentials from IPCKIT_NATS_TOKEN/_USER/_PASSWORD/_CREDS, never the URL\n"
    "chan: a name serves any number of sessions in a row; a sender whose last receiver went away exits 1.\n"
    "mode= is the octal permission of an object the command creates (default 0600).\n"
    "The receiver binds/listens/creates; the sender connects, retrying until --timeout. Exception: udp\n"
    "does not wait for a receiver: start recv first, or the first datagrams are lost.\n"
    "Byte streams (fifo, unix, tcp) carry u32 little-endian length frames unless --lines or --raw;\n"
    "pipe: is raw unless --lines.\n"
    "send ends with an end marker (an end-of-stream frame; on queues and datagram sockets begin/end\n"
    "markers with a session id), so recv ends when the sender finished and exits 1 when the stream was\n"
    "cut or the sender died; --raw and --no-end-marker are for peers that do not speak it.\n"
    "Sizes take binary suffixes (4096, 64KiB, 1MiB; 4KB is refused as ambiguous); durations a unit or\n"
    "seconds (300ms, 1.5s, 2m, 5, inf).\n";

constexpr const char* kExitCodes =
    "Exit codes: 0 success (recv: also when its stdout reader closed it, as in | head) · 1 failure ·\n"
    "2 bad usage · 126/127 pipe: command not executable/not found · 130/143 SIGINT/SIGTERM ·\n"
    "pipe: otherwise the child's exit code.\n";

constexpr const char* kExamples =
    "Examples:\n"
    "  ipckit recv unix:/tmp/s.sock --lines &      then   echo hello | ipckit send unix:/tmp/s.sock --lines\n"
    "  ipckit send mq:/jobs --create --lines < jobs.txt &    ipckit recv mq:/jobs --lines > done.txt\n"
    "  ipckit recv tcp:127.0.0.1:9000 --raw > file        ipckit send tcp:127.0.0.1:9000 --raw < file\n"
    "  socat - UNIX-LISTEN:/tmp/s.sock             then   echo hi | ipckit send unix:/tmp/s.sock --lines\n"
    "  ipckit send pipe: -- sort -n < numbers.txt\n"
    "  ipckit recv fifo:/tmp/f --create --remove-on-exit --hex\n";

std::string send_recv_footer() { return std::string(kUrlHelp) + "\n" + kExamples + "\n" + kExitCodes; }

void add_common(CLI::App* sub, Args& a) {
  sub->add_option("url", a.url, "Endpoint URL, e.g. unix:/tmp/s.sock, tcp:127.0.0.1:9000, mq:/jobs")->required();
  sub->add_option("command", a.command, "pipe: only: the command after --");
  sub->add_flag("--create", a.create, "Create a missing fifo/mq/sysvmq/chan object (sockets: no-op)");
  sub->add_flag("--lines", a.lines, "One line = one message (newline framing on byte streams)");
  sub->add_flag("--raw", a.raw,
                "Plain bytes on byte streams, no framing; plain messages on queues and datagram sockets, no "
                "session markers (for socat, nc, cat and programs of your own)");
  sub->add_flag("--no-end-marker", a.no_end_marker,
                "Send (or expect) no end marker: for a peer that speaks length frames or plain messages but not "
                "ipckit's end-of-stream frame and session markers (see End of stream in docs/endpoints.md)");
  sub->add_option("--ready-fd", a.ready_fd,
                  "Write one byte to fd N (3 or above) once ready (bound/listening/open/connected)")
      ->type_name("N");
  sub->add_flag("--remove-on-exit", a.remove_on_exit,
                "Remove the object the URL names when the command ends (fifo, mq, sysvmq, chan, socket path)");
  sub->add_flag("-v,--verbose", a.verbose,
                "Say what happens on stderr: the options in effect, connect retries, the address reached");
  sub->footer(send_recv_footer());
}

}  // namespace

std::string top_level_footer() {
  return "Inventory: ipckit ls | stat URL | rm KIND:NAME... | clean — every IPC object on the machine, who\n"
         "holds it, and safe removal of what crashed programs left (ipckit ls --help).\n\n" +
         send_recv_footer();
}

void add_send_recv_commands(CLI::App& app, Context& ctx) {
  static Args send_args;
  static Args recv_args;

  auto* send = app.add_subcommand("send", "Send stdin as messages to URL: ipckit send URL [options] [-- CMD ARGS]");
  add_common(send, send_args);
  send->add_flag("--hex", send_args.hex, "Each stdin line is one message written in hex");
  send->add_option("--count", send_args.count, "Send the input N times (N >= 1; default once)")->type_name("N");
  send->add_option("--size", send_args.size,
                   "Largest message, 1 B..1 GiB (e.g. 4096, 64KiB; default 64KiB or the mechanism's limit); "
                   "without --lines stdin is cut into messages of this size")
      ->type_name("SIZE");
  send->add_option("--priority", send_args.priority,
                   "mq: only: the priority of every message, 0..32767 (higher is received first; default 0, "
                   "or the URL's ?priority=)")
      ->type_name("N");
  send->add_option("--timeout", send_args.timeout,
                   "How long to keep trying to connect/open, and the most one message may wait "
                   "(e.g. 5, 300ms, 2m, inf; default 5 s)")
      ->type_name("DURATION");
  send->callback([&ctx] { ctx.exit_code = run_send(send_args); });

  auto* recv = app.add_subcommand("recv", "Receive messages from URL to stdout: ipckit recv URL [options] [-- CMD ARGS]");
  add_common(recv, recv_args);
  recv->add_flag("--hex", recv_args.hex, "Print each message on its own line in hex");
  recv->add_option("--count", recv_args.count, "Stop after N messages (N >= 1; default: until end of stream)")
      ->type_name("N");
  recv->add_option("--size", recv_args.size,
                   "Largest message accepted, 1 B..1 GiB (e.g. 64KiB; default 64KiB or the mechanism's limit); "
                   "a longer one is an error")
      ->type_name("SIZE");
  recv->add_flag("--show-priority", recv_args.show_priority,
                 "mq: only, with --lines or --hex: print each message's priority and a tab before it");
  recv->add_option("--timeout", recv_args.timeout,
                   "Fail when no message arrives for this long (e.g. 10, 500ms, 2m; default: wait forever)")
      ->type_name("DURATION");
  recv->callback([&ctx] { ctx.exit_code = run_recv(recv_args); });
}

}  // namespace ipckit::cli
