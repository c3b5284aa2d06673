// SPDX-License-Identifier: Apache-2.0
#include "ipckit/endpoint/url.hpp"

#include <bit>
#include <charconv>
#include <cstdint>
#include <limits>

#include <fmt/format.h>

#include "ipckit/channel/layout.hpp"
#include "ipckit/core/name.hpp"
#include "ipckit/core/units.hpp"
#include "ipckit/endpoint/endpoint.hpp"

namespace ipckit {
namespace {

struct SchemeInfo {
  Scheme scheme;
  const char* name;
  std::string_view form;
  std::initializer_list<std::string_view> keys;  // the query options it accepts
};

// One row per scheme: the name, the expected form shown in errors and --help, the query options.
const SchemeInfo kSchemes[] = {
    {Scheme::kPipe, "pipe", "pipe: -- CMD ARGS (e.g. ipckit send pipe: -- sort -n)", {}},
    {Scheme::kFifo, "fifo", "fifo:/path (e.g. fifo:/tmp/jobs.fifo?mode=0660)", {"mode"}},
    {Scheme::kMq, "mq", "mq:/name (e.g. mq:/jobs?maxmsg=10&msgsize=8192&priority=0&mode=0600)",
     {"maxmsg", "msgsize", "priority", "mode"}},
    {Scheme::kSysvMq, "sysvmq", "sysvmq:0xKEY or sysvmq:/path?proj=N (e.g. sysvmq:0x1234, sysvmq:/tmp?proj=7&type=1)",
     {"proj", "type", "mode"}},
    {Scheme::kUnix, "unix", "unix:/path or unix:@abstract (e.g. unix:/tmp/s.sock, unix:@jobs)", {"mode"}},
    {Scheme::kUnixDgram, "unix-dgram", "unix-dgram:/path or unix-dgram:@abstract (e.g. unix-dgram:@jobs)",
     {"mode"}},
    {Scheme::kUnixSeqpacket, "unix-seqpacket",
     "unix-seqpacket:/path or unix-seqpacket:@abstract (e.g. unix-seqpacket:/tmp/s.sock)", {"mode"}},
    {Scheme::kTcp, "tcp", "tcp:HOST:PORT (e.g. tcp:127.0.0.1:9000, tcp:[::1]:9000, tcp:*:9000)", {}},
    {Scheme::kUdp, "udp", "udp:HOST:PORT (e.g. udp:127.0.0.1:9000, udp:[::1]:9000)", {}},
    {Scheme::kChan, "chan", "chan:/name (e.g. chan:/jobs?pattern=spsc&capacity=1MiB&max=64KiB)",
     {"pattern", "capacity", "max", "mode", "policy"}},
    {Scheme::kNats, "nats",
     "nats:HOST:PORT/SUBJECT or nats+tls:HOST:PORT/SUBJECT (e.g. nats:127.0.0.1:4222/ticks, "
     "nats:h1:4222,h2:4222/jobs?queue=workers)",
     {"queue"}},
};

const SchemeInfo& info(Scheme s) { return kSchemes[static_cast<std::size_t>(s)]; }

std::string scheme_list() {
  std::string out;
  for (const auto& s : kSchemes) {
    if (!out.empty()) out += ' ';
    out += s.name;
    out += ':';
    if (s.scheme == Scheme::kNats) out += " nats+tls:";
  }
  return out;
}

Unexpected bad_url(std::string_view url, std::string detail) {
  return fail_library(LibraryCode::kInvalidArgument, "url", quoted(url), std::move(detail));
}

Unexpected bad_part(std::string_view url, Scheme s, std::string what) {
  return bad_url(url, fmt::format("{}; expected {}", what, info(s).form));
}

template <class T>
bool parse_int(std::string_view text, T& out, int base = 10) {
  if (text.empty()) return false;
  const auto* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, out, base);
  return ec == std::errc() && p == end;
}

// A NATS subject: dot-separated tokens, none empty, no whitespace; `*` as a whole token and `>` as
// the last one are wildcards (for receivers; Sender refuses them).
bool is_nats_subject(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  std::size_t start = 0;
  while (start <= s.size()) {
    std::size_t dot = s.find('.', start);
    if (dot == std::string_view::npos) dot = s.size();
    const std::string_view token = s.substr(start, dot - start);
    if (token.empty()) return false;
    for (char c : token) {
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\0') return false;
    }
    if (token.size() > 1 && (token.find('*') != std::string_view::npos || token.find('>') != std::string_view::npos)) {
      return false;
    }
    if (token == ">" && dot != s.size()) return false;
    start = dot + 1;
  }
  return true;
}

// Checks one query value, so a typo fails at parse time rather than at creation.
Result<void> check_option(std::string_view url, const Url& u, std::string_view key, std::string_view value) {
  auto bad = [&](std::string_view expected) {
    return bad_url(url, fmt::format("bad value \"{}\" for option \"{}\"; expected {}", value, key, expected));
  };
  if (key == "mode") {
    unsigned m = 0;
    if (!parse_int(value, m, 8) || m > 07777) return bad("an octal permission such as 0600 or 0660");
  } else if (key == "maxmsg") {
    long n = 0;
    if (!parse_int(value, n) || n < 1) return bad("a message count of at least 1 (e.g. maxmsg=10)");
  } else if (key == "priority") {
    unsigned n = 0;
    if (!parse_int(value, n) || n >= 32768) return bad("a priority 0..32767 (MQ_PRIO_MAX - 1)");
  } else if (key == "type") {
    long n = 0;
    if (!parse_int(value, n) || n < 1) return bad("a message type of at least 1 (e.g. type=1)");
  } else if (key == "proj") {
    int n = 0;
    if (!parse_int(value, n) || n < 1 || n > 255) return bad("a project id 1..255 for ftok (e.g. proj=1)");
    if (u.sysv_key) return bad_url(url, "option \"proj\" applies to sysvmq:/path only, not to a numeric key");
  } else if (key == "pattern") {
    if (value != "spsc" && value != "mpmc" && value != "broadcast") return bad("spsc, mpmc or broadcast");
  } else if (key == "policy") {
    if (value != "block" && value != "lapse") return bad("block or lapse (pattern=broadcast)");
  } else if (key == "queue") {
    if (!is_nats_subject(value) || value.find('.') != std::string_view::npos || value == "*" || value == ">") {
      return bad("a queue group name such as workers (no spaces, dots or wildcards)");
    }
  } else if (key == "msgsize" || key == "capacity" || key == "max") {
    const std::uint64_t limit = key == "capacity" ? kChannelMaxCapacity
                                : key == "max"    ? kChannelMaxMessage
                                                  : std::numeric_limits<long>::max();
    auto n = parse_size(value, key, {1, limit});
    if (!n) {
      return bad_url(url, fmt::format("bad value \"{}\" for option \"{}\": {}", value, key, n.error().hint()));
    }
  }
  return {};
}

// A size as a URL option value: "64KiB" (format_size without the space).
std::string url_size(std::uint64_t v) {
  std::string t = format_size(v);
  if (auto sp = t.find(' '); sp != std::string::npos) t.erase(sp, 1);
  if (t.size() > 1 && t.back() == 'B' && t[t.size() - 2] >= '0' && t[t.size() - 2] <= '9') t.pop_back();
  return t;
}

// Checks the chan: options together, so a channel that cannot be created is a usage error at once
// rather than a failure at creation (pattern, policy, capacity a power of two holding two records).
Result<void> check_chan_options(std::string_view url, const Url& u) {
  const std::string pattern = u.option("pattern").value_or("spsc");
  if (u.option("policy") && pattern != "broadcast") {
    return bad_url(url, fmt::format("option \"policy\" applies to pattern=broadcast only (this is pattern={}); "
                                    "add &pattern=broadcast or drop policy=",
                                    pattern));
  }
  std::uint64_t capacity = kChannelDefaultCapacity;
  std::uint64_t max = kDefaultMaxMessage;
  if (auto v = u.option("capacity")) capacity = *parse_size(*v, "capacity");  // checked by check_option
  if (auto v = u.option("max")) max = *parse_size(*v, "max");
  if (u.option("capacity") && !std::has_single_bit(capacity)) {
    return bad_url(url, fmt::format("capacity={} ({} bytes) is not a power of two; try capacity={}", *u.option("capacity"),
                                    capacity, url_size(std::bit_ceil(capacity))));
  }
  const std::uint64_t need = channel_layout::min_capacity(max);
  if (capacity < need) {
    return bad_url(url, fmt::format("capacity {} is below two records of max {} (2 x ({} + {} header bytes) = {} bytes); "
                                    "raise capacity= to {} or lower max=",
                                    format_size(capacity), format_size(max), max, channel_layout::kRecordHeader, need,
                                    url_size(std::bit_ceil(need))));
  }
  return {};
}

Result<void> parse_query(std::string_view url, std::string_view q, Url& u) {
  const auto& keys = info(u.scheme).keys;
  while (!q.empty()) {
    const std::size_t amp = q.find('&');
    const std::string_view item = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
    const std::size_t eq = item.find('=');
    if (item.empty() || eq == std::string_view::npos || eq == 0) {
      return bad_part(url, u.scheme, fmt::format("bad option \"{}\" (options are ?key=value&key=value)", item));
    }
    const std::string_view key = item.substr(0, eq);
    const std::string_view value = item.substr(eq + 1);
    bool known = false;
    for (auto k : keys) known = known || k == key;
    if (!known) {
      std::string list;
      for (auto k : keys) list += fmt::format("{}{}", list.empty() ? "" : ", ", k);
      return bad_url(url, fmt::format("unknown option \"{}\" for {}: ({}); {} accepts {}", key, info(u.scheme).name,
                                      item, info(u.scheme).name, list.empty() ? std::string("no options") : list));
    }
    if (u.option(key)) return bad_url(url, fmt::format("option \"{}\" given twice", key));
    if (auto r = check_option(url, u, key, value); !r) return fail(r.error());
    u.query.emplace_back(key, value);
  }
  return {};
}

Result<void> parse_host_port(std::string_view url, std::string_view addr, Url& u) {
  std::string_view host;
  std::string_view port;
  if (addr.empty()) return bad_part(url, u.scheme, "missing HOST:PORT");
  if (addr.front() == '[') {
    const std::size_t close = addr.find(']');
    if (close == std::string_view::npos) {
      return bad_part(url, u.scheme, fmt::format("unterminated IPv6 address \"{}\" (missing ']')", addr));
    }
    host = addr.substr(1, close - 1);
    const std::string_view rest = addr.substr(close + 1);
    if (rest.empty() || rest.front() != ':') {
      return bad_part(url, u.scheme, fmt::format("missing \":PORT\" after \"{}\"", addr.substr(0, close + 1)));
    }
    port = rest.substr(1);
    if (host.empty()) return bad_part(url, u.scheme, "empty IPv6 address \"[]\"");
  } else {
    const std::size_t colon = addr.rfind(':');
    if (colon == std::string_view::npos) {
      return bad_part(url, u.scheme, fmt::format("missing \":PORT\" after \"{}\"", addr));
    }
    host = addr.substr(0, colon);
    port = addr.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return bad_part(url, u.scheme,
                      fmt::format("IPv6 address \"{}\" must be written in brackets ([{}]:PORT)", host, host));
    }
    if (host.empty()) return bad_part(url, u.scheme, fmt::format("missing HOST before \":{}\" (use * for any)", port));
  }
  unsigned p = 0;
  if (!parse_int(port, p) || p > 65535) {
    return bad_part(url, u.scheme, fmt::format("bad port \"{}\" (expected 0..65535)", port));
  }
  u.host = std::string(host);
  u.port = static_cast<std::uint16_t>(p);
  return {};
}

// One rule for every path scheme (fifo:, unix*:, sysvmq:): a path is absolute or starts with ./ or
// ../ (then it is relative to the current directory, as in any shell command). A bare word is
// refused: it reads like a name (unix:jobs meant unix:@jobs?) and, for sysvmq:, a key.
bool is_path(std::string_view a) {
  return a.front() == '/' || a.substr(0, 2) == "./" || a.substr(0, 3) == "../";
}

Unexpected not_a_path(std::string_view url, Scheme s, std::string_view addr) {
  const std::string scheme(info(s).name);
  if (s == Scheme::kFifo) {
    return bad_part(url, s, fmt::format("\"{}\" is not a path: write {}:./{} for a file in the current directory, "
                                        "or an absolute path",
                                        addr, scheme, addr));
  }
  return bad_part(url, s, fmt::format("\"{}\" is not a path: write {}:./{} for a file in the current directory, an "
                                      "absolute path, or {}:@{} for an abstract name",
                                      addr, scheme, addr, scheme, addr));
}

// nats: with an '@' anywhere (user:password@host, token@host, even past a '/' or '?' inside a
// password): refused before anything else is looked at, and the error quotes the URL with everything
// up to the last '@' blanked out: it must not print what it refuses to read.
Unexpected nats_credentials_refused(const Url& u, std::string_view rest) {
  const std::string shown = std::string(u.tls ? "nats+tls:" : "nats:") + "***@" + std::string(rest.substr(rest.rfind('@') + 1));
  return fail_library(LibraryCode::kInvalidArgument, "url", quoted(shown),
                      "credentials in a URL are refused (a command line shows in ps and /proc/PID/cmdline): give a "
                      "token in IPCKIT_NATS_TOKEN, a user and password in IPCKIT_NATS_USER and IPCKIT_NATS_PASSWORD, "
                      "or a creds file in IPCKIT_NATS_CREDS (docs/bridge.md, \"Credentials\")");
}

// nats:SERVERS/SUBJECT (credentials were refused by parse_url already).
Result<void> parse_nats_address(std::string_view url, std::string_view addr, Url& u) {
  const std::size_t slash = addr.find('/');
  const std::string_view servers = addr.substr(0, slash);
  if (addr.substr(0, 2) == "//") {
    return bad_part(url, u.scheme, fmt::format("no \"//\" after the scheme: write {}{}", u.tls ? "nats+tls:" : "nats:",
                                               addr.substr(2)));
  }
  if (slash == std::string_view::npos) return bad_part(url, u.scheme, "missing /SUBJECT after the server");
  const std::string_view subject = addr.substr(slash + 1);
  if (subject.empty()) return bad_part(url, u.scheme, "missing SUBJECT after '/'");
  if (!is_nats_subject(subject)) {
    return bad_part(url, u.scheme,
                    fmt::format("bad subject \"{}\" (dot-separated tokens such as ticks.eu, no spaces or empty tokens; "
                                "* and > only as whole tokens, > last)",
                                subject));
  }
  std::string_view rest = servers;
  if (rest.empty()) return bad_part(url, u.scheme, "missing HOST:PORT before the subject");
  std::string host;
  std::uint16_t port = 0;
  while (!rest.empty() || u.servers.empty()) {
    const std::size_t comma = rest.find(',');
    const std::string_view one = rest.substr(0, comma);
    if (one.empty()) return bad_part(url, u.scheme, "empty server in the list (servers are HOST:PORT,HOST:PORT)");
    if (auto r = parse_host_port(url, one, u); !r) return fail(r.error());
    if (u.host == "*") return bad_part(url, u.scheme, "a server must be a host name or address, not *");
    if (u.port == 0) return bad_part(url, u.scheme, fmt::format("port 0 in \"{}\": give the server's port (4222 by default)", one));
    u.servers.emplace_back(one);
    if (host.empty()) {
      host = u.host;
      port = u.port;
    }
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
    if (rest.empty()) return bad_part(url, u.scheme, "empty server after ',' (servers are HOST:PORT,HOST:PORT)");
  }
  u.host = host;
  u.port = port;
  u.subject = std::string(subject);
  return {};
}

std::vector<std::string> split_words(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    std::size_t j = i;
    while (j < s.size() && s[j] != ' ') ++j;
    if (j > i) out.emplace_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

}  // namespace

const char* to_string(Scheme scheme) noexcept { return info(scheme).name; }
std::string_view expected_form(Scheme scheme) noexcept { return info(scheme).form; }

bool is_byte_stream(Scheme scheme) noexcept {
  return scheme == Scheme::kPipe || scheme == Scheme::kFifo || scheme == Scheme::kUnix || scheme == Scheme::kTcp;
}

std::optional<std::string> Url::option(std::string_view key) const {
  for (const auto& [k, v] : query) {
    if (k == key) return v;
  }
  return std::nullopt;
}

Result<Url> parse_url(std::string_view text) {
  Url u;
  u.text = std::string(text);
  const std::size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    return bad_url(text, fmt::format("missing scheme in \"{}\"; expected SCHEME:ADDRESS with SCHEME one of {} "
                                     "(e.g. unix:/tmp/s.sock)",
                                     text, scheme_list()));
  }
  const std::string_view name = text.substr(0, colon);
  const SchemeInfo* found = nullptr;
  for (const auto& s : kSchemes) {
    if (s.name == name) found = &s;
  }
  if (name == "nats+tls") {
    found = &info(Scheme::kNats);
    u.tls = true;
  }
  if (found == nullptr) {
    return bad_url(text, fmt::format("unknown scheme \"{}:\"; expected one of {}", name, scheme_list()));
  }
  u.scheme = found->scheme;
  std::string_view rest = text.substr(colon + 1);

  if (u.scheme == Scheme::kPipe) {
    // "pipe:" alone, or "pipe: -- CMD ARGS" / "pipe:-- CMD" in one string.
    std::size_t i = 0;
    while (i < rest.size() && rest[i] == ' ') ++i;
    rest = rest.substr(i);
    if (rest.empty()) return u;
    if (rest.substr(0, 2) != "--" || (rest.size() > 2 && rest[2] != ' ')) {
      return bad_part(text, u.scheme, fmt::format("unexpected \"{}\" after \"pipe:\"", rest));
    }
    u.command = split_words(rest.substr(2));
    return u;
  }

  if (u.scheme == Scheme::kNats && rest.find('@') != std::string_view::npos) return nats_credentials_refused(u, rest);
  const std::size_t qmark = rest.find('?');
  const std::string_view addr = rest.substr(0, qmark);
  u.address = std::string(addr);
  if (addr.find('\0') != std::string_view::npos) return bad_part(text, u.scheme, "the address contains a NUL byte");

  switch (u.scheme) {
    case Scheme::kFifo:
      if (addr.empty()) return bad_part(text, u.scheme, "missing path");
      if (!is_path(addr)) return not_a_path(text, u.scheme, addr);
      break;
    case Scheme::kMq:
    case Scheme::kChan:
      if (addr.empty()) return bad_part(text, u.scheme, "missing /name");
      if (auto r = validate_posix_name(addr, u.scheme == Scheme::kMq ? NameKind::kMessageQueue : NameKind::kShm,
                                       "url");
          !r) {
        return bad_part(text, u.scheme, fmt::format("bad name \"{}\": {}", addr, r.error().hint()));
      }
      break;
    case Scheme::kSysvMq:
      if (addr.empty()) return bad_part(text, u.scheme, "missing key or path");
      if (!is_path(addr)) {
        std::uint32_t key = 0;
        const bool hex = addr.size() > 2 && addr[0] == '0' && (addr[1] == 'x' || addr[1] == 'X');
        if (!(hex ? parse_int(addr.substr(2), key, 16) : parse_int(addr, key, 10))) {
          return bad_part(text, u.scheme,
                          fmt::format("bad key \"{}\" (a 32-bit key in hex 0x... or decimal, or an absolute path)",
                                      addr));
        }
        if (key == 0) {
          return bad_part(text, u.scheme, "key 0 is IPC_PRIVATE, which cannot be shared by name");
        }
        u.sysv_key = key;
      }
      break;
    case Scheme::kUnix:
    case Scheme::kUnixDgram:
    case Scheme::kUnixSeqpacket:
      if (addr.empty()) return bad_part(text, u.scheme, "missing /path or @abstract name");
      if (addr == "@") return bad_part(text, u.scheme, "missing name after '@'");
      if (addr.front() != '@' && !is_path(addr)) return not_a_path(text, u.scheme, addr);
      if (addr.size() > 107) {
        return bad_part(text, u.scheme,
                        fmt::format("the address is {} bytes; sun_path holds at most 107", addr.size()));
      }
      break;
    case Scheme::kTcp:
    case Scheme::kUdp:
      if (auto r = parse_host_port(text, addr, u); !r) return fail(r.error());
      break;
    case Scheme::kNats:
      if (auto r = parse_nats_address(text, addr, u); !r) return fail(r.error());
      break;
    case Scheme::kPipe:
      break;
  }
  if (qmark != std::string_view::npos) {
    if (auto r = parse_query(text, rest.substr(qmark + 1), u); !r) return fail(r.error());
  }
  if (u.scheme == Scheme::kChan) {
    if (auto r = check_chan_options(text, u); !r) return fail(r.error());
  }
  if (auto proj = u.option("proj")) {
    u.proj = std::stoi(*proj);  // checked by check_option: 1..255
  }
  return u;
}

}  // namespace ipckit
