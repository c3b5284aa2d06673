// SPDX-License-Identifier: Apache-2.0
// The inventory (include/ipckit/inventory/inventory.hpp): one /proc scan for holders, then every
// kind's own table — /dev/shm (POSIX shm, semaphores, channels), the mqueue filesystem, /proc/sysvipc,
// socket files and FIFOs under the scanned directories plus /proc/net/unix.
#include "ipckit/inventory/inventory.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <mqueue.h>
#include <semaphore.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "detail/unix_socket_file.hpp"
#include "ipckit/core/unique_fd.hpp"
#include "ipckit/message/posix_mq.hpp"
#include "proc_scan.hpp"

namespace ipckit::inventory {

using detail::FileKey;
using detail::ProcScan;

const char* to_string(Kind kind) noexcept {
  switch (kind) {
    case Kind::kPosixShm: return "posix-shm";
    case Kind::kPosixMq: return "posix-mq";
    case Kind::kPosixSem: return "posix-sem";
    case Kind::kSysvShm: return "sysv-shm";
    case Kind::kSysvMq: return "sysv-mq";
    case Kind::kSysvSem: return "sysv-sem";
    case Kind::kChannel: return "channel";
    case Kind::kUnixSocket: return "unix-socket";
    case Kind::kFifo: return "fifo";
  }
  return "unknown";
}

std::optional<Kind> parse_kind(std::string_view text) noexcept {
  for (Kind k : kAllKinds) {
    if (text == to_string(k)) return k;
  }
  return std::nullopt;
}

const char* to_string(State state) noexcept {
  switch (state) {
    case State::kInUse: return "in-use";
    case State::kUnused: return "unused";
    case State::kIdle: return "idle";
    case State::kOrphaned: return "orphaned";
    case State::kUnknown: return "unknown";
  }
  return "unknown";
}

std::optional<State> parse_state(std::string_view text) noexcept {
  for (State s : {State::kInUse, State::kUnused, State::kIdle, State::kOrphaned, State::kUnknown}) {
    if (text == to_string(s)) return s;
  }
  return std::nullopt;
}

std::vector<std::int64_t> sysv_ids(std::string_view kind) {
  std::vector<std::int64_t> out;
  std::ifstream f(fmt::format("/proc/sysvipc/{}", kind));
  std::string line;
  std::getline(f, line);  // header
  while (std::getline(f, line)) {
    std::istringstream ls(line);
    std::int64_t key = 0, id = -1;
    if (ls >> key >> id) out.push_back(id);
  }
  return out;
}

namespace {

bool wanted(const ListOptions& o, Kind k) {
  return o.kinds.empty() || std::find(o.kinds.begin(), o.kinds.end(), k) != o.kinds.end();
}

// The state of an object whose kind shows its holders.
void holder_state(Object& o, const ProcScan& scan) {
  if (!o.holders.empty()) {
    o.state = State::kInUse;
  } else if (scan.complete) {
    o.state = State::kUnused;
  } else {
    o.state = State::kUnknown;
    o.note = "holders not fully visible (" + scan.why + ")";
  }
}

void fill_stat(Object& o, const struct stat& st) {
  o.owner = st.st_uid;
  o.mode = st.st_mode & 07777;
  o.size = static_cast<std::uint64_t>(st.st_size);
  o.mtime = st.st_mtim.tv_sec;
}

void add_holders(std::vector<Holder>& to, const std::vector<Holder>& more) {
  for (const Holder& h : more) {
    if (std::find(to.begin(), to.end(), h) == to.end()) to.push_back(h);
  }
}

// ---- /dev/shm: POSIX shm, POSIX semaphores, channels --------------------------------------------

struct ShmEntry {
  std::string file;  // name in /dev/shm
  struct stat st {};
  ChannelObjectKind kind = ChannelObjectKind::kNone;
  bool readable = true;
};

// "/c" for "c.ctl", "c.sub.12" (and "c" for a data segment).
std::string channel_base(const ShmEntry& e) {
  if (e.kind == ChannelObjectKind::kControl && e.file.size() > 4) return "/" + e.file.substr(0, e.file.size() - 4);
  if (e.kind == ChannelObjectKind::kSubscriber) {
    const auto at = e.file.rfind(".sub.");
    if (at != std::string::npos) return "/" + e.file.substr(0, at);
  }
  return "/" + e.file;
}

void evaluate_channel(Object& o, const std::vector<const ShmEntry*>& parts, const ShmEntry* data, const ProcScan& scan) {
  o.kind = Kind::kChannel;
  o.size = 0;
  for (const ShmEntry* p : parts) {
    o.parts.push_back("/" + p->file);
    o.size += static_cast<std::uint64_t>(p->st.st_size);
    add_holders(o.holders, scan.holders_of_file(FileKey{p->st.st_dev, p->st.st_ino}));
    o.mtime = std::max<std::int64_t>(o.mtime, p->st.st_mtim.tv_sec);
  }
  const struct stat& first = data != nullptr ? data->st : parts.front()->st;
  o.owner = first.st_uid;
  o.mode = first.st_mode & 07777;
  std::vector<std::pair<std::string, Liveness>> recorded;  // role, liveness
  if (data != nullptr) {
    auto info = inspect_channel(o.name);
    if (!info) {
      o.state = o.holders.empty() ? State::kUnknown : State::kInUse;
      o.note = "the channel could not be read: " + info.error().str();
      return;
    }
    for (const ChannelParticipant& p : info->participants) {
      recorded.emplace_back(p.role, p.state);
      if (p.state == Liveness::kAlive) add_holders(o.holders, {Holder{static_cast<pid_t>(p.who.pid), scan.command_of(static_cast<pid_t>(p.who.pid))}});
    }
    o.channel = std::move(*info);
  } else {
    // A broadcast channel's .ctl/.sub.N left without its data segment.
    for (const ShmEntry* p : parts) {
      if (p->kind != ChannelObjectKind::kSubscriber) continue;
      auto rec = inspect_subscriber_record("/" + p->file);
      if (!rec) {
        recorded.emplace_back("subscriber", Liveness::kUnknown);
      } else if (!rec->closed) {
        recorded.emplace_back("subscriber", rec->state);
        if (rec->state == Liveness::kAlive) add_holders(o.holders, {Holder{static_cast<pid_t>(rec->who.pid), scan.command_of(static_cast<pid_t>(rec->who.pid))}});
      }
    }
  }
  if (!o.holders.empty()) {
    o.state = State::kInUse;
    return;
  }
  const bool any_unknown = std::any_of(recorded.begin(), recorded.end(), [](auto& r) { return r.second != Liveness::kDead; });
  if (any_unknown) {
    o.state = State::kUnknown;
    o.note = "a recorded participant's liveness cannot be proven here (another pid namespace?)";
    return;
  }
  if (data == nullptr) {
    o.state = State::kOrphaned;
    o.note = fmt::format("its data segment {} is gone", o.name);
    return;
  }
  if (!recorded.empty()) {
    o.state = State::kOrphaned;
    o.note = "every recorded participant is dead";
    return;
  }
  holder_state(o, scan);  // nobody recorded: unused (or unknown when holders were not all visible)
}

void list_dev_shm(const ListOptions& opts, const ProcScan& scan, Listing& out) {
  DIR* d = ::opendir("/dev/shm");
  if (d == nullptr) {
    out.notes.push_back(fmt::format("posix-shm, posix-sem, channel: /dev/shm cannot be read: {}", errno_name(errno)));
    return;
  }
  std::vector<ShmEntry> entries;
  while (dirent* e = ::readdir(d)) {
    ShmEntry s;
    s.file = e->d_name;
    if (s.file == "." || s.file == "..") continue;
    const std::string path = "/dev/shm/" + s.file;
    if (::lstat(path.c_str(), &s.st) != 0 || !S_ISREG(s.st.st_mode)) continue;
    if (s.file.rfind("sem.", 0) != 0) {
      UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
      if (fd) {
        s.kind = channel_object_kind(fd.get());
      } else {
        s.readable = false;
      }
    }
    entries.push_back(std::move(s));
  }
  ::closedir(d);
  std::map<std::string, std::vector<const ShmEntry*>> channels;
  for (const ShmEntry& e : entries) {
    if (e.kind != ChannelObjectKind::kNone) {
      channels[channel_base(e)].push_back(&e);
      continue;
    }
    const bool sem = e.file.rfind("sem.", 0) == 0;
    const Kind k = sem ? Kind::kPosixSem : Kind::kPosixShm;
    if (!wanted(opts, k)) continue;
    Object o;
    o.kind = k;
    o.name = "/" + (sem ? e.file.substr(4) : e.file);
    fill_stat(o, e.st);
    o.holders = scan.holders_of_file(FileKey{e.st.st_dev, e.st.st_ino});
    holder_state(o, scan);
    if (!e.readable && o.state != State::kInUse) {
      o.state = State::kUnknown;
      o.note = "not readable by this user: it could be a channel's object";
    }
    out.objects.push_back(std::move(o));
  }
  if (!wanted(opts, Kind::kChannel)) return;
  for (auto& [base, parts] : channels) {
    const ShmEntry* data = nullptr;
    for (const ShmEntry* p : parts) {
      if (p->kind == ChannelObjectKind::kData) data = p;
    }
    std::sort(parts.begin(), parts.end(), [](auto* a, auto* b) { return a->file < b->file; });
    Object o;
    o.name = base;
    evaluate_channel(o, parts, data, scan);
    out.objects.push_back(std::move(o));
  }
}

// ---- POSIX message queues -------------------------------------------------------------------------

void list_posix_mq(const ProcScan& scan, Listing& out) {
  auto names = PosixMq::list();
  if (!names) {
    out.notes.push_back("posix-mq: " + names.error().str());
    return;
  }
  for (const std::string& name : *names) {
    Object o;
    o.kind = Kind::kPosixMq;
    o.name = name;
    // mq_open O_RDONLY consumes nothing and is not a holder (this process is left out of the scan).
    const mqd_t q = ::mq_open(name.c_str(), O_RDONLY | O_NONBLOCK);
    if (q == static_cast<mqd_t>(-1)) {
      o.state = State::kUnknown;
      o.note = fmt::format("mq_open: {}", errno_name(errno));
      out.objects.push_back(std::move(o));
      continue;
    }
    UniqueFd fd(q);  // an mqd_t is a descriptor on Linux
    struct stat st {};
    mq_attr attr{};
    if (::fstat(fd.get(), &st) == 0) {
      fill_stat(o, st);
      o.holders = scan.holders_of_file(FileKey{st.st_dev, st.st_ino});
    }
    if (::mq_getattr(q, &attr) == 0) {
      o.size = static_cast<std::uint64_t>(attr.mq_maxmsg) * static_cast<std::uint64_t>(attr.mq_msgsize);
      o.messages = static_cast<std::uint64_t>(attr.mq_curmsgs);
    }
    holder_state(o, scan);
    out.objects.push_back(std::move(o));
  }
}

// ---- System V ------------------------------------------------------------------------------------

std::vector<std::vector<std::int64_t>> sysv_rows(const char* kind) {
  std::vector<std::vector<std::int64_t>> rows;
  std::ifstream f(std::string("/proc/sysvipc/") + kind);
  std::string line;
  std::getline(f, line);
  while (std::getline(f, line)) {
    std::istringstream ls(line);
    std::vector<std::int64_t> row;
    std::int64_t v = 0;
    while (ls >> v) row.push_back(v);
    rows.push_back(std::move(row));
  }
  return rows;
}

void list_sysv(const ListOptions& opts, const ProcScan& scan, Listing& out) {
  if (wanted(opts, Kind::kSysvShm)) {
    // key shmid perms size cpid lpid nattch uid gid cuid cgid atime dtime ctime
    for (const auto& r : sysv_rows("shm")) {
      if (r.size() < 14) continue;
      Object o;
      o.kind = Kind::kSysvShm;
      o.key = r[0];
      o.id = r[1];
      o.name = std::to_string(o.id);
      o.mode = static_cast<mode_t>(r[2] & 0777);
      o.size = static_cast<std::uint64_t>(r[3]);
      o.last_pids = {static_cast<pid_t>(r[4]), static_cast<pid_t>(r[5])};
      o.owner = static_cast<uid_t>(r[7]);
      o.mtime = std::max({r[11], r[12], r[13]});
      if (auto it = scan.sysv_shm.find(o.id); it != scan.sysv_shm.end()) o.holders = scan.holders(it->second);
      if (o.holders.empty() && r[6] > 0) {
        o.state = State::kInUse;
        o.note = fmt::format("{} attachment(s), holders not visible here", r[6]);
      } else {
        holder_state(o, scan);
        if (o.state == State::kUnknown && r[6] == 0) o.state = State::kUnused;  // nattch 0 is the kernel's word
      }
      out.objects.push_back(std::move(o));
    }
  }
  if (wanted(opts, Kind::kSysvMq)) {
    // key msqid perms cbytes qnum lspid lrpid uid gid cuid cgid stime rtime ctime
    for (const auto& r : sysv_rows("msg")) {
      if (r.size() < 14) continue;
      Object o;
      o.kind = Kind::kSysvMq;
      o.key = r[0];
      o.id = r[1];
      o.name = std::to_string(o.id);
      o.mode = static_cast<mode_t>(r[2] & 0777);
      o.size = static_cast<std::uint64_t>(r[3]);
      o.messages = static_cast<std::uint64_t>(r[4]);
      o.last_pids = {static_cast<pid_t>(r[5]), static_cast<pid_t>(r[6])};
      o.owner = static_cast<uid_t>(r[7]);
      o.mtime = std::max({r[11], r[12], r[13]});
      o.state = State::kIdle;
      o.note = fmt::format("last send by pid {}, last receive by pid {}", r[5], r[6]);
      out.objects.push_back(std::move(o));
    }
  }
  if (wanted(opts, Kind::kSysvSem)) {
    // key semid perms nsems uid gid cuid cgid otime ctime
    for (const auto& r : sysv_rows("sem")) {
      if (r.size() < 10) continue;
      Object o;
      o.kind = Kind::kSysvSem;
      o.key = r[0];
      o.id = r[1];
      o.name = std::to_string(o.id);
      o.mode = static_cast<mode_t>(r[2] & 0777);
      o.size = static_cast<std::uint64_t>(r[3]);
      o.owner = static_cast<uid_t>(r[4]);
      o.mtime = std::max(r[8], r[9]);
      for (std::int64_t i = 0; i < r[3] && i < 64; ++i) {  // bounded: a set may hold thousands
        const int pid = ::semctl(static_cast<int>(o.id), static_cast<int>(i), GETPID);
        if (pid > 0 && std::find(o.last_pids.begin(), o.last_pids.end(), pid) == o.last_pids.end()) {
          o.last_pids.push_back(pid);
        }
      }
      o.state = State::kIdle;
      out.objects.push_back(std::move(o));
    }
  }
}

// ---- UNIX sockets and FIFOs ------------------------------------------------------------------------

struct BoundSet {
  bool complete = true;
  std::string why;
  std::map<std::tuple<std::uint32_t, std::uint32_t, std::uint64_t>, std::vector<std::uint32_t>> files;
};

// Sockets bound to files in every network namespace a process of /proc is in.
BoundSet bound_sockets(const ProcScan& scan) {
  BoundSet b;
  auto take = [&](const ipckit::detail::BoundSocketScan& s) {
    if (!s.complete) {
      if (b.complete) b.why = s.why;
      b.complete = false;
      return;
    }
    for (const auto& f : s.files) b.files[{f.dev_major, f.dev_minor, f.ino}].push_back(f.socket_inode);
  };
  struct stat self_ns {};
  const bool have_self = ::stat("/proc/self/ns/net", &self_ns) == 0;
  take(ipckit::detail::scan_bound_socket_files(-1));
  for (const auto& [ns, pid] : scan.net_namespaces) {
    if (have_self && ns == self_ns.st_ino) continue;
    UniqueFd fd(::open(fmt::format("/proc/{}/ns/net", pid).c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
      if (errno == ENOENT || errno == ESRCH) continue;  // exited meanwhile
      if (b.complete) b.why = fmt::format("network namespace of pid {}: {}", pid, errno_name(errno));
      b.complete = false;
      continue;
    }
    take(ipckit::detail::scan_bound_socket_files(fd.get()));
  }
  if (!scan.net_namespaces_complete && b.complete) {
    // sock_diag sees every namespace a visible process is in; an unreadable /proc/PID/ns/net may hide one.
    b.complete = false;
    b.why = "network namespaces not fully visible (" + scan.net_why + ")";
  }
  return b;
}

Object evaluate_socket_file(const std::string& path, const struct stat& st, const ProcScan& scan, const BoundSet& bound) {
  Object o;
  o.kind = Kind::kUnixSocket;
  o.name = path;
  fill_stat(o, st);
  o.size = 0;
  auto it = bound.files.find({::major(st.st_dev), ::minor(st.st_dev), st.st_ino});
  if (it != bound.files.end()) {
    for (std::uint32_t sock : it->second) {
      if (auto h = scan.sockets.find(sock); h != scan.sockets.end()) add_holders(o.holders, scan.holders(h->second));
    }
    o.state = State::kInUse;
    if (o.holders.empty()) o.note = "a socket is bound to it; its holder is not visible here";
  } else if (bound.complete) {
    o.state = State::kOrphaned;
    o.note = "no socket is bound to it in any network namespace";
  } else {
    o.state = State::kUnknown;
    o.note = "whether a socket is bound to it cannot be checked: " + bound.why;
  }
  return o;
}

// Depth-limited walk on one filesystem, never following symlinks.
void walk(const std::string& dir, dev_t dev, int depth, std::vector<std::pair<std::string, struct stat>>& found) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;
  while (dirent* e = ::readdir(d)) {
    const std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    const std::string path = dir == "/" ? "/" + n : dir + "/" + n;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) continue;
    if (S_ISSOCK(st.st_mode) || S_ISFIFO(st.st_mode)) {
      found.emplace_back(path, st);
    } else if (S_ISDIR(st.st_mode) && depth > 0 && st.st_dev == dev) {
      walk(path, dev, depth - 1, found);
    }
  }
  ::closedir(d);
}

void list_paths(const ListOptions& opts, const ProcScan& scan, Listing& out) {
  const bool sockets = wanted(opts, Kind::kUnixSocket);
  const bool fifos = wanted(opts, Kind::kFifo);
  std::vector<std::pair<std::string, struct stat>> found;
  for (const std::string& p : opts.paths) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      walk(p, st.st_dev, 3, found);
    } else if (S_ISSOCK(st.st_mode) || S_ISFIFO(st.st_mode)) {
      found.emplace_back(p, st);
    }
  }
  // Bound sockets from /proc/net/unix: abstract names, and files outside the scanned directories.
  // Num RefCount Protocol Flags Type St Inode Path
  std::map<std::string, std::set<std::uint64_t>> abstract;
  if (sockets) {
    std::ifstream f("/proc/net/unix");
    std::string line;
    std::getline(f, line);
    while (std::getline(f, line)) {
      std::istringstream ls(line);
      std::string num, refs, proto, flags, type, st, path;
      std::uint64_t inode = 0;
      if (!(ls >> num >> refs >> proto >> flags >> type >> st >> inode)) continue;
      std::getline(ls >> std::ws, path);
      if (path.empty()) continue;
      if (path[0] == '@') {
        abstract[path].insert(inode);
        continue;
      }
      struct stat fst {};
      if (::lstat(path.c_str(), &fst) == 0 && S_ISSOCK(fst.st_mode) &&
          std::none_of(found.begin(), found.end(), [&](auto& e) { return e.first == path; })) {
        found.emplace_back(path, fst);
      }
    }
  }
  std::sort(found.begin(), found.end(), [](auto& a, auto& b) { return a.first < b.first; });
  BoundSet bound;
  const bool any_socket = std::any_of(found.begin(), found.end(), [](auto& e) { return S_ISSOCK(e.second.st_mode); });
  if (sockets && any_socket) bound = bound_sockets(scan);
  for (const auto& [path, st] : found) {
    if (S_ISSOCK(st.st_mode)) {
      if (sockets) out.objects.push_back(evaluate_socket_file(path, st, scan, bound));
    } else if (fifos) {
      Object o;
      o.kind = Kind::kFifo;
      o.name = path;
      fill_stat(o, st);
      o.holders = scan.holders_of_file(FileKey{st.st_dev, st.st_ino});
      holder_state(o, scan);
      out.objects.push_back(std::move(o));
    }
  }
  for (const auto& [name, inodes] : abstract) {
    Object o;
    o.kind = Kind::kUnixSocket;
    o.name = name;
    o.owner = static_cast<uid_t>(-1);  // abstract sockets have no file, hence no owner or mode
    for (std::uint64_t ino : inodes) {
      if (auto h = scan.sockets.find(ino); h != scan.sockets.end()) add_holders(o.holders, scan.holders(h->second));
    }
    o.state = State::kInUse;  // an abstract name exists only while a socket is bound to it
    if (o.holders.empty()) o.note = "bound; its holder is not visible here";
    out.objects.push_back(std::move(o));
  }
}

bool is_path_kind(Kind k) { return k == Kind::kUnixSocket || k == Kind::kFifo; }

}  // namespace

Result<Listing> list_objects(const ListOptions& options) {
  Listing out;
  const ProcScan scan = detail::scan_processes(options.this_pid_namespace_only);
  if (wanted(options, Kind::kPosixShm) || wanted(options, Kind::kPosixSem) || wanted(options, Kind::kChannel)) {
    list_dev_shm(options, scan, out);
  }
  if (wanted(options, Kind::kPosixMq)) list_posix_mq(scan, out);
  list_sysv(options, scan, out);
  if (wanted(options, Kind::kUnixSocket) || wanted(options, Kind::kFifo)) list_paths(options, scan, out);
  std::stable_sort(out.objects.begin(), out.objects.end(), [](const Object& a, const Object& b) {
    return a.kind != b.kind ? a.kind < b.kind : a.name < b.name;
  });
  return out;
}

Result<Object> find_object(Kind kind, std::string_view name, const ListOptions& options) {
  ListOptions o = options;
  o.kinds = {kind};
  if (is_path_kind(kind) && !name.empty() && name[0] == '/') o.paths = {std::string(name)};
  auto l = list_objects(o);
  if (!l) return fail(l.error());
  for (Object& obj : l->objects) {
    if (obj.kind == kind && obj.name == name) return std::move(obj);
  }
  std::string hint = fmt::format("no {} of that name", to_string(kind));
  // The same name under another kind (a channel's segment is not a posix-shm): say which.
  ListOptions others = options;
  others.kinds.clear();
  for (Kind k : kAllKinds) {
    if (k != kind && !is_path_kind(k) && !is_path_kind(kind)) others.kinds.push_back(k);
  }
  if (!others.kinds.empty()) {
    if (auto all = list_objects(others)) {
      for (const Object& obj : all->objects) {
        if (obj.name == name) {
          hint += fmt::format("; it is a {}: {}:{}", to_string(obj.kind), to_string(obj.kind), obj.name);
          break;
        }
      }
    }
  }
  for (const std::string& n : l->notes) hint += "; " + n;
  return fail_errno(ENOENT, "find", quoted(name), hint);
}

namespace {

std::string holders_text(const Object& o) {
  std::string s;
  for (const Holder& h : o.holders) {
    if (!s.empty()) s += ", ";
    s += h.command.empty() ? fmt::format("pid {}", h.pid) : fmt::format("pid {} ({})", h.pid, h.command);
  }
  return s;
}

Result<void> unlink_path(const Object& o, bool want_socket) {
  struct stat st {};
  if (::lstat(o.name.c_str(), &st) != 0) return last_errno().fail("lstat", quoted(o.name));
  if (want_socket ? !S_ISSOCK(st.st_mode) : !S_ISFIFO(st.st_mode)) {
    return fail_library(LibraryCode::kInvalidArgument, "unlink", quoted(o.name),
                        fmt::format("it is no longer a {}; it was left alone", want_socket ? "socket" : "FIFO"));
  }
  if (::unlink(o.name.c_str()) != 0) return last_errno().fail("unlink", quoted(o.name));
  return {};
}

}  // namespace

Result<void> remove_object(const Object& o, const RemoveOptions& options) {
  if (!options.force && o.state == State::kInUse) {
    const std::string who = holders_text(o);
    return fail_library(LibraryCode::kRoleTaken, "remove", quoted(o.name),
                        fmt::format("the {} is in use{}; it was left alone", to_string(o.kind),
                                    who.empty() ? (o.note.empty() ? "" : " (" + o.note + ")") : " by " + who));
  }
  if (!options.force && o.state == State::kUnknown) {
    return fail_library(LibraryCode::kUntrusted, "remove", quoted(o.name),
                        fmt::format("its state is unknown ({}); it was left alone", o.note));
  }
  switch (o.kind) {
    case Kind::kPosixShm:
      if (::shm_unlink(o.name.c_str()) != 0) return last_errno().fail("shm_unlink", quoted(o.name));
      return {};
    case Kind::kPosixSem:
      if (::sem_unlink(o.name.c_str()) != 0) return last_errno().fail("sem_unlink", quoted(o.name));
      return {};
    case Kind::kPosixMq: return PosixMq::unlink(o.name);
    case Kind::kSysvShm:
      if (::shmctl(static_cast<int>(o.id), IPC_RMID, nullptr) != 0) return last_errno().fail("shmctl", quoted(o.name));
      return {};
    case Kind::kSysvMq:
      if (::msgctl(static_cast<int>(o.id), IPC_RMID, nullptr) != 0) return last_errno().fail("msgctl", quoted(o.name));
      return {};
    case Kind::kSysvSem:
      if (::semctl(static_cast<int>(o.id), 0, IPC_RMID) != 0) return last_errno().fail("semctl", quoted(o.name));
      return {};
    case Kind::kChannel: {
      // Every part, the data segment first (openers then fail at once instead of finding a
      // half-removed channel); one failure is reported, the rest are still removed.
      Result<void> first;
      for (const std::string& part : o.parts) {
        if (::shm_unlink(part.c_str()) != 0 && errno != ENOENT && first) first = last_errno().fail("shm_unlink", quoted(part));
      }
      return first;
    }
    case Kind::kUnixSocket:
      if (!o.name.empty() && o.name[0] == '@') {
        return fail_library(LibraryCode::kUnsupported, "remove", quoted(o.name),
                            "an abstract socket has no file: it disappears when its holder closes it");
      }
      return unlink_path(o, true);
    case Kind::kFifo: return unlink_path(o, false);
  }
  return {};
}

bool clean_selects(const Object& o, const CleanFilter& f, std::int64_t now_s, std::string* why_not) {
  auto no = [&](std::string why) {
    if (why_not != nullptr) *why_not = std::move(why);
    return false;
  };
  if (!f.kinds.empty() && std::find(f.kinds.begin(), f.kinds.end(), o.kind) == f.kinds.end()) return no("other kind");
  if (f.user && o.owner != *f.user) return no("other owner");
  if (!f.name_glob.empty() && ::fnmatch(f.name_glob.c_str(), o.name.c_str(), 0) != 0) return no("other name");
  if (f.older_than_s && static_cast<double>(now_s - o.mtime) < *f.older_than_s) return no("too recent");
  switch (o.state) {
    case State::kInUse: return no("in use");
    case State::kUnknown: return no("state unknown");
    case State::kUnused:
      if (!f.unused) return no("unused (needs unused)");
      break;
    case State::kIdle:
      if (!f.idle) return no("idle (needs idle)");
      break;
    case State::kOrphaned: break;
  }
  if (o.kind == Kind::kUnixSocket && !o.name.empty() && o.name[0] == '@') return no("abstract socket");
  if (o.messages && *o.messages > 0 && !f.force) return no(fmt::format("holds {} message(s) (needs force)", *o.messages));
  return true;
}

}  // namespace ipckit::inventory
