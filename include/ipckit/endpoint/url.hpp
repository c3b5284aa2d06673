// SPDX-License-Identifier: Apache-2.0
// Endpoint URLs: one string names any ipckit mechanism (docs/design.md, "One name per mechanism").
//
//   pipe: -- CMD ARGS          anonymous pipe to (send) or from (recv) a child process
//   fifo:/path                 FIFO
//   mq:/name                   POSIX message queue            ?maxmsg=N&msgsize=BYTES&priority=N&mode=0600
//   sysvmq:0xKEY               System V message queue by key  ?type=N&mode=0600
//   sysvmq:/path?proj=N        ... by ftok(path, proj); proj 1 by default
//   unix:/path  unix:@name     UNIX stream socket (path or Linux abstract name)
//   unix-dgram:…  unix-seqpacket:…   UNIX datagram / seqpacket sockets, same address forms
//   tcp:HOST:PORT  tcp:[v6]:PORT     TCP (IPv4, or IPv6 in brackets; * = any address)
//   udp:HOST:PORT  udp:[v6]:PORT     UDP
//   chan:/name                 the ipckit channel             ?pattern=spsc|mpmc|broadcast&capacity=1MiB&max=64KiB
//   nats:HOST:PORT/SUBJECT     NATS (core), through a server  ?queue=NAME; several servers: H1:P1,H2:P2/SUBJECT;
//   nats+tls:HOST:PORT/SUBJECT ... over TLS. Credentials never in the URL (docs/bridge.md, "Credentials")
//
// Query options (?k=v&k2=v2) are read only where the object is created. parse_url() checks the
// form of every part and the names of the options; a malformed URL is an Error whose text quotes the
// bad part and shows the expected form with an example. Pure functions: thread-safe, never block.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ipckit/core/result.hpp"
#include "ipckit/core/units.hpp"  // parse_size: sizes in URL options (capacity=1MiB)

namespace ipckit {

/// The mechanism an endpoint URL names (the part before the first ':').
enum class Scheme : std::uint8_t {
  kPipe,  ///< pipe: anonymous pipe to or from a child process
  kFifo,  ///< fifo: FIFO
  kMq,  ///< mq: POSIX message queue
  kSysvMq,  ///< sysvmq: System V message queue
  kUnix,  ///< unix: UNIX stream socket
  kUnixDgram,  ///< unix-dgram: UNIX datagram socket
  kUnixSeqpacket,  ///< unix-seqpacket: UNIX seqpacket socket
  kTcp,  ///< tcp: TCP
  kUdp,  ///< udp: UDP
  kChan,  ///< chan: the ipckit channel
  kNats,  ///< nats: and nats+tls: (Url::tls)
};

/// Every scheme, in the order of the table in docs/design.md.
inline constexpr Scheme kAllSchemes[] = {Scheme::kPipe,      Scheme::kFifo,          Scheme::kMq,
                                         Scheme::kSysvMq,    Scheme::kUnix,          Scheme::kUnixDgram,
                                         Scheme::kUnixSeqpacket, Scheme::kTcp,       Scheme::kUdp,
                                         Scheme::kChan,      Scheme::kNats};

/// "pipe", "fifo", "mq", "sysvmq", "unix", "unix-dgram", "unix-seqpacket", "tcp", "udp", "chan", "nats".
[[nodiscard]] IPCKIT_API const char* to_string(Scheme scheme) noexcept;
/// The expected form of a scheme's URL with an example, as error messages and --help show it:
/// "tcp:HOST:PORT (e.g. tcp:127.0.0.1:9000 or tcp:[::1]:9000)".
[[nodiscard]] IPCKIT_API std::string_view expected_form(Scheme scheme) noexcept;
/// True for the schemes that carry a byte stream (framed by the endpoint): pipe, fifo, unix, tcp.
[[nodiscard]] IPCKIT_API bool is_byte_stream(Scheme scheme) noexcept;

/// A parsed endpoint URL (parse_url()); which fields are set depends on the scheme.
struct IPCKIT_API Url {
  Scheme scheme = Scheme::kPipe;  ///< the mechanism
  std::string text;     ///< the URL as the user wrote it (for error messages)
  std::string address;  ///< what follows "scheme:" without the query: path, /name, `@name`, 0xKEY, HOST:PORT
  std::string host;     ///< tcp/udp: the host without brackets (`*` = any address)
  std::uint16_t port = 0;           ///< tcp/udp
  std::optional<std::uint32_t> sysv_key;  ///< sysvmq:0xKEY
  int proj = 1;                     ///< sysvmq:/path?proj=N
  std::vector<std::pair<std::string, std::string>> query;  ///< `?k=v` options in order
  std::vector<std::string> command;  ///< pipe: -- CMD ARGS
  /// nats: every server as "HOST:PORT" ("[v6]:PORT"), in the URL's order (host/port: the first one).
  std::vector<std::string> servers;
  std::string subject;  ///< nats: the subject (wildcards `*` and `>` allowed; a sender refuses them)
  bool tls = false;  ///< nats+tls:

  /// The value of query option \p key, if given.
  [[nodiscard]] std::optional<std::string> option(std::string_view key) const;
};

/// Parses \p text. For pipe:, the command may follow in the same string ("pipe: -- sort -n", split on
/// spaces) or be given separately by the caller (EndpointOptions::command, the CLI's "-- CMD ARGS").
/// Never blocks; thread-safe.
/// Errors: kInvalidArgument, call "url", object the whole URL quoted, detail naming the bad part and
/// the expected form, e.g.
/// `url("tcp:localhost"): invalid argument: missing ":PORT" after "localhost"; expected tcp:HOST:PORT (e.g. ...)`
[[nodiscard]] IPCKIT_API Result<Url> parse_url(std::string_view text);

// The chan: limits parse_url checks (the channel's own limits: capacity a power of two up to 4 GiB,
// max up to 1 GiB, the record length field being 32 bits) and its default capacity.
/// The largest chan: capacity= parse_url accepts (4 GiB, a power of two: the commit word's position tag repeats every 8 GiB).
inline constexpr std::uint64_t kChannelMaxCapacity = std::uint64_t{1} << 32;
/// The largest chan: max= parse_url accepts (1 GiB: the record length field is 32 bits).
inline constexpr std::uint64_t kChannelMaxMessage = std::uint64_t{1} << 30;
/// The default chan: capacity (1 MiB).
inline constexpr std::uint64_t kChannelDefaultCapacity = std::uint64_t{1} << 20;

}  // namespace ipckit
