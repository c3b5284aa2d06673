// SPDX-License-Identifier: Apache-2.0
// Every IPC object on this machine, who holds it, and in which state (`ipckit ls`, `stat`, `rm`,
// `clean`). docs/cli.md ("Inventory") defines the states and shows the commands.
//
//   auto l = inventory::list_objects({});          // every kind, holders and states
//   for (auto& o : l->objects) if (o.state == inventory::State::kOrphaned) (void)inventory::remove_object(o, {});
//
// Holders are found from /proc/*/maps (mappings), /proc/*/fd (open descriptors, mq descriptors
// included), System V nattch, sock_diag (sockets bound to a file, in every network namespace seen
// in /proc/*/ns/net) and a channel's liveness tokens (OFD locks the kernel releases when a holder
// dies: valid in any pid namespace, immune to pid reuse). What cannot be inspected (another user's /proc, another pid namespace) makes the state
// `unknown`, never `unused` or `orphaned`: nothing is removed on a guess.
//
// Every call here is blocking (it reads /proc, /dev/shm and the kernel's tables) and thread-safe
// (no shared state). Listing as non-root shows what that user may see.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ipckit/channel/inspect.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/export.hpp"

namespace ipckit::inventory {

/// The `ls` kinds of docs/design.md, in listing order.
enum class Kind { kPosixShm, kPosixMq, kPosixSem, kSysvShm, kSysvMq, kSysvSem, kChannel, kUnixSocket, kFifo };
/// Every kind, in listing order.
inline constexpr Kind kAllKinds[] = {Kind::kPosixShm, Kind::kPosixMq,  Kind::kPosixSem,
                                     Kind::kSysvShm,  Kind::kSysvMq,   Kind::kSysvSem,
                                     Kind::kChannel,  Kind::kUnixSocket, Kind::kFifo};
/// "posix-shm", "posix-mq", "posix-sem", "sysv-shm", "sysv-mq", "sysv-sem", "channel", "unix-socket", "fifo".
[[nodiscard]] IPCKIT_API const char* to_string(Kind kind) noexcept;
/// The kind named \p text (one of the to_string(Kind) names), or nullopt.
[[nodiscard]] IPCKIT_API std::optional<Kind> parse_kind(std::string_view text) noexcept;

/// The state of an object (docs/cli.md, "Inventory").
enum class State {
  kInUse,     ///< a holder is seen
  kUnused,    ///< the kind shows its holders and none is seen
  kIdle,      ///< the kind cannot show holders (sysv-mq, sysv-sem): last-operation pids are shown
  kOrphaned,  ///< provably abandoned: a channel whose recorded participants are all dead, a socket file
              ///< no socket is bound to, a channel's .ctl/.sub.N whose channel is gone
  kUnknown,   ///< something could not be inspected (`note` says what)
};
/// "in-use", "unused", "idle", "orphaned", "unknown".
[[nodiscard]] IPCKIT_API const char* to_string(State state) noexcept;
/// The state named \p text (one of the to_string(State) names), or nullopt.
[[nodiscard]] IPCKIT_API std::optional<State> parse_state(std::string_view text) noexcept;

/// A process that holds an object (maps it, has it open, is attached to it or is a channel participant).
struct Holder {
  pid_t pid = 0;  ///< the holding process
  std::string command;  ///< /proc/PID/comm ("" when unreadable)
  /// Equal when pid and command are.
  friend bool operator==(const Holder&, const Holder&) = default;
};

/// One IPC object as listed: what it is, who holds it and its state.
struct Object {
  Kind kind = Kind::kPosixShm;  ///< the kind
  std::string name;  ///< as the user types it: "/jobs", "/tmp/s.sock", "\@abs", a System V id "32769"
  std::int64_t id = -1;   ///< System V id (-1 otherwise)
  std::int64_t key = 0;   ///< System V key (0 = IPC_PRIVATE)
  uid_t owner = 0;  ///< owner uid
  mode_t mode = 0;        ///< permission bits
  std::uint64_t size = 0; ///< bytes (posix-mq: max messages x message size; sysv-sem: semaphores)
  std::int64_t mtime = 0; ///< seconds since the epoch (System V: last change)
  State state = State::kUnknown;  ///< the state
  std::vector<Holder> holders;  ///< the holders seen
  std::string note;       ///< why a state is unknown or orphaned, in words
  std::optional<std::uint64_t> messages;  ///< queued messages (posix-mq, sysv-mq)
  std::vector<pid_t> last_pids;           ///< sysv: creator and last-operation pids
  std::optional<ChannelInfo> channel;     ///< kind channel, when its data segment could be read
  std::vector<std::string> parts;         ///< kind channel: every shm name it owns ("/c", "/c.ctl", "/c.sub.3")
};

/// What list_objects() and find_object() scan.
struct ListOptions {
  /// Directories scanned (recursively, 4 levels, one filesystem) for socket files and FIFOs.
  std::vector<std::string> paths{"/tmp", "/run"};
  /// Kinds to list (empty: every kind). Listing fewer kinds skips their scans.
  std::vector<Kind> kinds;
  /// Outside the initial pid namespace (a container, `unshare -p`) the processes of the parent
  /// namespaces are invisible, so holder-based states are `unknown` and no socket file is proven
  /// orphaned. true: the caller vouches that only processes of this pid namespace use the objects
  /// listed (a container that shares them with nobody outside, a test's private namespace).
  bool this_pid_namespace_only = false;
};

/// What list_objects() found.
struct Listing {
  std::vector<Object> objects;  ///< the objects found
  /// Kinds that could not be listed at all, in words with the fix ("posix-mq: no mqueue filesystem
  /// is mounted; mount one as root: ...").
  std::vector<std::string> notes;
};

/// Lists every object of the requested kinds. Blocks while it reads /proc, /dev/shm and the kernel's
/// tables; thread-safe. Errors only for failures that leave nothing to list
/// (e.g. /proc unreadable); a kind that cannot be listed is a note, an object that cannot be
/// inspected is `unknown`.
[[nodiscard]] IPCKIT_API Result<Listing> list_objects(const ListOptions& options = {});

/// The object \p kind \p name as list_objects() would report it now (its state is checked afresh).
/// \p name as Object::name ("sysv-mq" takes the id). Blocking; thread-safe. Errors: ENOENT naming it
/// when it does not exist.
[[nodiscard]] IPCKIT_API Result<Object> find_object(Kind kind, std::string_view name,
                                                    const ListOptions& options = {});

/// How remove_object() treats objects that may still be used.
struct RemoveOptions {
  bool force = false;  ///< remove even an object in use (or a queue holding messages)
};
/// Removes the object (a channel: every part). An `in-use` object is refused (kRoleTaken naming
/// the holders) unless `force`; `unknown` objects are refused unless `force`. Blocking; thread-safe.
/// Errors: the failing call naming the object (shm_unlink, mq_unlink, msgctl, unlink, ...).
[[nodiscard]] IPCKIT_API Result<void> remove_object(const Object& object, const RemoveOptions& options);

/// System V ids of one kind ("shm", "msg", "sem") from /proc/sysvipc (the leak audit uses it).
/// Empty when the file cannot be read.
[[nodiscard]] IPCKIT_API std::vector<std::int64_t> sysv_ids(std::string_view kind);

}  // namespace ipckit::inventory

namespace ipckit::inventory {

/// What `ipckit clean` selects: orphaned objects, plus unused (`unused`) and idle (`idle`) ones;
/// never in-use or unknown. A queue holding messages only with `force`.
struct CleanFilter {
  bool unused = false;  ///< also select `unused` objects
  bool idle = false;  ///< also select `idle` objects
  bool force = false;  ///< also select a queue holding messages
  std::vector<Kind> kinds;                 ///< empty: every kind
  std::optional<double> older_than_s;      ///< mtime at least this many seconds ago
  std::optional<uid_t> user;               ///< owner
  std::string name_glob;                   ///< fnmatch(3) on Object::name; empty: any
};
/// Whether `clean` removes \p object now (\p now_s: seconds since the epoch). \p why_not (optional)
/// gets the reason when it does not, in words ("in use", "holds 3 messages: add --force").
/// An abstract UNIX socket is never selected. Pure (it looks only at \p object, which is not checked afresh).
[[nodiscard]] IPCKIT_API bool clean_selects(const Object& object, const CleanFilter& filter, std::int64_t now_s,
                                            std::string* why_not = nullptr);

}  // namespace ipckit::inventory
