// SPDX-License-Identifier: Apache-2.0
// The reference tutorials' claims about the kernel, checked on this machine. Each TEST is cited as
// evidence in docs/tutorial-errata.md: where a tutorial is wrong or imprecise, the test shows what
// Linux really does. Tests use raw system calls where the claim is about the kernel itself, and
// ipckit's types where it is about using a mechanism.
// ipckit-test: resource-lock mqueue
#include <fcntl.h>
#include <limits.h>
#include <mqueue.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ipckit/core/io.hpp"
#include "ipckit/core/unique_fd.hpp"
#include "ipckit/memory/posix_shm.hpp"
#include "ipckit/sync/file_lock.hpp"
#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

using namespace std::chrono_literals;

struct RawPipe {
  UniqueFd r, w;
};
RawPipe make_pipe(int flags = 0) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | flags) != 0) return {};
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// 001: "Capacity: typically 64KB (Linux default)". True by default, but per pipe adjustable with
// F_SETPIPE_SZ up to /proc/sys/fs/pipe-max-size (1 MiB by default).
TEST(TutorialClaims, PipeCapacityIs64KiBByDefaultAndAdjustable) {
  RawPipe p = make_pipe();
  ASSERT_TRUE(p.r.valid());
  EXPECT_EQ(::fcntl(p.w.get(), F_GETPIPE_SZ), 65536);
  ASSERT_GE(::fcntl(p.w.get(), F_SETPIPE_SZ, 1 << 20), 1 << 20) << std::strerror(errno);
  EXPECT_EQ(::fcntl(p.w.get(), F_GETPIPE_SZ), 1 << 20);
}

// 001: "writes up to PIPE_BUF (4096+ bytes) are atomic". PIPE_BUF is exactly 4096 on Linux (POSIX
// only guarantees >= 512); writes of that size from several writers never interleave.
TEST(TutorialClaims, PipeBufIsExactly4096AndSuchWritesNeverInterleave) {
  static_assert(PIPE_BUF == 4096);
  RawPipe p = make_pipe();
  ASSERT_TRUE(p.r.valid());
  const std::size_t records = test::scaled(2000);
  std::vector<pid_t> writers;
  for (char id : {'a', 'b', 'c'}) {
    writers.push_back(test::spawn_child([&, id] {
      p.r.reset();
      const std::string rec(PIPE_BUF, id);
      for (std::size_t i = 0; i < records; ++i) {
        if (::write(p.w.get(), rec.data(), rec.size()) != PIPE_BUF) return 1;  // one write() each
      }
      return 0;
    }));
  }
  p.w.reset();
  std::string rec(PIPE_BUF, '\0');
  std::size_t read_records = 0;
  for (;;) {
    auto st = read_full(p.r.get(), std::as_writable_bytes(std::span(rec)));
    ASSERT_TRUE(st.has_value());
    if (st->bytes == 0) break;
    ASSERT_EQ(st->bytes, rec.size());
    ASSERT_EQ(rec.find_first_not_of(rec[0]), std::string::npos) << "a PIPE_BUF write was interleaved";
    ++read_records;
  }
  for (pid_t w : writers) EXPECT_TRUE(test::wait_child(w).ok());
  EXPECT_EQ(read_records, 3 * records);
}

// 002: pipes are "only suitable for byte-stream communication". Since Linux 3.4 a pipe created with
// O_DIRECT is in packet mode: each write() is one message and each read() returns one.
TEST(TutorialClaims, PacketModePipeKeepsMessageBoundaries) {
  RawPipe p = make_pipe(O_DIRECT);
  ASSERT_TRUE(p.r.valid()) << std::strerror(errno);
  ASSERT_EQ(::write(p.w.get(), "ab", 2), 2);
  ASSERT_EQ(::write(p.w.get(), "cde", 3), 3);
  char buf[100];
  EXPECT_EQ(::read(p.r.get(), buf, sizeof buf), 2);
  EXPECT_EQ(::read(p.r.get(), buf, sizeof buf), 3);
}

// 000/003 contrast: a plain pipe merges two writes into one read (byte stream).
TEST(TutorialClaims, PlainPipeMergesWrites) {
  RawPipe p = make_pipe();
  ASSERT_EQ(::write(p.w.get(), "ab", 2), 2);
  ASSERT_EQ(::write(p.w.get(), "cde", 3), 3);
  char buf[100];
  EXPECT_EQ(::read(p.r.get(), buf, sizeof buf), 5);
}

// 003: "The data exchanged via pipes, FIFOs, and datagram sockets is an undelimited byte stream".
// Wrong for datagram sockets: they keep boundaries; it is *stream* sockets that do not.
TEST(TutorialClaims, DatagramSocketsKeepBoundariesStreamSocketsDoNot) {
  for (int type : {SOCK_DGRAM, SOCK_STREAM}) {
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv), 0);
    UniqueFd a(sv[0]), b(sv[1]);
    ASSERT_EQ(::send(a.get(), "ab", 2, MSG_NOSIGNAL), 2);
    ASSERT_EQ(::send(a.get(), "cde", 3, MSG_NOSIGNAL), 3);
    char buf[100];
    EXPECT_EQ(::recv(b.get(), buf, sizeof buf, 0), type == SOCK_DGRAM ? 2 : 5) << "type " << type;
  }
}

// 000: with message facilities "each read() gets exactly one complete message". Only if the buffer is
// large enough: a datagram read into a smaller buffer is cut short and the rest is lost (MSG_TRUNC).
TEST(TutorialClaims, DatagramReadIntoSmallBufferIsTruncated) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
  UniqueFd a(sv[0]), b(sv[1]);
  ASSERT_EQ(::send(a.get(), "0123456789", 10, MSG_NOSIGNAL), 10);
  ASSERT_EQ(::send(a.get(), "next", 4, MSG_NOSIGNAL), 4);
  char buf[4];
  iovec iov{buf, sizeof buf};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  EXPECT_EQ(::recvmsg(b.get(), &msg, 0), 4);
  EXPECT_TRUE(msg.msg_flags & MSG_TRUNC);
  char rest[16];
  EXPECT_EQ(::recv(b.get(), rest, sizeof rest, 0), 4);  // the next message: "456789" is gone
  EXPECT_EQ(std::string(rest, 4), "next");
}

// 001: the POSIX mq receiver calls mq_receive(mq, &msg, sizeof(msg), ..) on a queue created with
// mq_msgsize = 128. mq_receive fails with EMSGSIZE whenever the buffer is smaller than mq_msgsize,
// even if the message itself is small: the tutorial's receiver never receives anything.
TEST(TutorialClaims, MqReceiveWithBufferSmallerThanMsgsizeFails) {
  const std::string name = test::unique_name();
  mq_attr attr{};
  attr.mq_maxmsg = 4;
  attr.mq_msgsize = 128;
  const mqd_t mq = ::mq_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600, &attr);
  ASSERT_NE(mq, static_cast<mqd_t>(-1)) << std::strerror(errno);
  struct SensorMsg {
    int id;
    float value;
  } msg{1, 23.5f};
  EXPECT_EQ(::mq_send(mq, reinterpret_cast<const char*>(&msg), sizeof msg, 5), 0);
  unsigned prio = 0;
  errno = 0;
  EXPECT_EQ(::mq_receive(mq, reinterpret_cast<char*>(&msg), sizeof msg, &prio), -1);
  EXPECT_EQ(errno, EMSGSIZE);
  char big[128];
  EXPECT_EQ(::mq_receive(mq, big, sizeof big, &prio), static_cast<ssize_t>(sizeof msg));
  EXPECT_EQ(prio, 5u);
  ::mq_close(mq);
  ::mq_unlink(name.c_str());
}

// 001/003: "open(fifo, O_RDONLY) blocks until writer opens" and vice versa. Only for blocking opens:
// O_RDONLY|O_NONBLOCK succeeds at once, O_WRONLY|O_NONBLOCK fails with ENXIO while there is no
// reader, and O_RDWR (Linux) never blocks.
TEST(TutorialClaims, FifoOpenBlocksOnlyWithoutNonblockOrRdwr) {
  test::TempDir dir;
  const std::string path = dir.file("fifo");
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  errno = 0;
  EXPECT_EQ(::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC), -1);
  EXPECT_EQ(errno, ENXIO);
  UniqueFd r(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  EXPECT_TRUE(r.valid());
  UniqueFd rw(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  EXPECT_TRUE(rw.valid());
  r.reset();
  rw.reset();
  ::unlink(path.c_str());
}

// 001: FIFO "Persistence: Filesystem". The name persists; the data does not: bytes still in a FIFO
// when the last descriptor closes are discarded.
TEST(TutorialClaims, FifoDataIsDiscardedWhenTheLastDescriptorCloses) {
  test::TempDir dir;
  const std::string path = dir.file("fifo");
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  {
    UniqueFd rw(::open(path.c_str(), O_RDWR | O_CLOEXEC));
    ASSERT_TRUE(rw.valid());
    ASSERT_EQ(::write(rw.get(), "lost", 4), 4);
  }
  UniqueFd rw(::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC));
  ASSERT_TRUE(rw.valid());
  char buf[8];
  errno = 0;
  EXPECT_EQ(::read(rw.get(), buf, sizeof buf), -1);
  EXPECT_EQ(errno, EAGAIN);
  rw.reset();
  ::unlink(path.c_str());
}

// 001: UNIX domain socket "Persistence: Process lifetime". A socket bound to a path leaves the path
// behind after the socket closes (and the process exits): a new bind() fails with EADDRINUSE until
// someone unlinks it. Only abstract-namespace names vanish with the socket.
TEST(TutorialClaims, UnixSocketPathOutlivesTheSocket) {
  test::TempDir dir;
  const std::string path = dir.file("sock");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  const auto* sa = reinterpret_cast<const sockaddr*>(&addr);
  {
    UniqueFd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_EQ(::bind(s.get(), sa, sizeof addr), 0);
  }
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  UniqueFd again(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  errno = 0;
  EXPECT_EQ(::bind(again.get(), sa, sizeof addr), -1);
  EXPECT_EQ(errno, EADDRINUSE);
  ::unlink(path.c_str());
}

// 004: "A pipe can only be used between a parent and child process". Any processes holding the
// descriptors can use it: here two sibling children, the parent only creates it.
TEST(TutorialClaims, PipeWorksBetweenSiblings) {
  RawPipe p = make_pipe();
  const pid_t writer = test::spawn_child([&] {
    p.r.reset();
    return ::write(p.w.get(), "sibling", 7) == 7 ? 0 : 1;
  });
  const pid_t reader = test::spawn_child([&] {
    p.w.reset();
    char buf[16];
    auto st = read_full(p.r.get(), std::as_writable_bytes(std::span(buf, 7)));
    return st && st->bytes == 7 && std::memcmp(buf, "sibling", 7) == 0 ? 0 : 1;
  });
  p.r.reset();
  p.w.reset();
  EXPECT_TRUE(test::wait_child(writer).ok());
  EXPECT_TRUE(test::wait_child(reader).ok());
}

// 004: "A signal cannot transfer data from one process to another". sigqueue() carries an int (or
// pointer-sized) payload with a real-time or standard signal; the receiver reads it in si_value.
TEST(TutorialClaims, SignalCarriesAnIntegerPayload) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGRTMIN);
  sigset_t old;
  ASSERT_EQ(::pthread_sigmask(SIG_BLOCK, &set, &old), 0);  // inherited: no window before sigwaitinfo
  const pid_t child = test::spawn_child([&] {
    siginfo_t info{};
    if (::sigwaitinfo(&set, &info) != SIGRTMIN) return 1;
    return info.si_value.sival_int == 4242 && info.si_code == SI_QUEUE ? 0 : 2;
  });
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  sigval v{};
  v.sival_int = 4242;
  ASSERT_EQ(::sigqueue(child, SIGRTMIN, v), 0);
  EXPECT_TRUE(test::wait_child(child).ok());
}

// 004: "shm_unlink(): Deletes a shared memory region given a file descriptor ... once shm_unlink()
// is called, no other processes can access the region". shm_unlink takes the *name*; afterwards
// the name cannot be opened, but every existing descriptor and mapping (and a child that inherits
// them) keeps working until the last one goes.
TEST(TutorialClaims, ShmUnlinkRemovesTheNameNotTheMemory) {
  const std::string name = test::unique_name();
  auto shm = PosixShm::create(name, 4096);
  ASSERT_TRUE(shm.has_value()) << shm.error().str();
  auto map = shm->map();
  ASSERT_TRUE(map.has_value());
  auto removed = PosixShm::unlink(name);
  ASSERT_TRUE(removed.has_value());
  EXPECT_TRUE(*removed);
  auto reopened = PosixShm::open(name, Access::kReadOnly);
  ASSERT_FALSE(reopened.has_value());
  EXPECT_EQ(reopened.error().code(), ENOENT);
  auto* bytes = static_cast<char*>(map->data());
  const auto child = test::run_in_child([&] {
    std::strcpy(bytes, "after unlink");
    return 0;
  });
  EXPECT_TRUE(child.ok());
  EXPECT_STREQ(bytes, "after unlink");
}


// 003: file locks: "when one process holds a write lock ..., other processes are prevented from
// holding either read or write locks". True, but the locks are advisory (a process that does not
// ask can still write), and a classic fcntl record lock is dropped as soon as its process closes
// ANY descriptor of the file; an OFD lock (ipckit's default) is not.
TEST(TutorialClaims, FileLocksAreAdvisoryAndRecordLocksDieWithAnyClose) {
  test::TempDir dir;
  const std::string path = dir.file("locked");
  for (LockStyle style : {LockStyle::kRecord, LockStyle::kOfd}) {
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    ASSERT_TRUE(fd.valid());
    const LockSpec spec{style, LockKind::kExclusive};
    auto held = FileLock::lock(fd.get(), spec, path);
    ASSERT_TRUE(held.has_value()) << held.error().str();
    // Advisory: another process writes without asking.
    const auto writer = test::run_in_child([&] {
      const int other = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
      return other >= 0 && ::write(other, "x", 1) == 1 ? 0 : 1;
    });
    EXPECT_TRUE(writer.ok());
    // Some library code opens and closes the same file, e.g. to read a config value from it.
    ::close(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    const auto other_locker = test::run_in_child([&] {
      UniqueFd own(::open(path.c_str(), O_RDWR | O_CLOEXEC));
      auto got = FileLock::try_lock(own.get(), spec, path);
      if (!got) return 3;
      return got->has_value() ? 1 : 2;  // 1: the lock was free, 2: still held
    });
    ASSERT_TRUE(other_locker.exited);
    EXPECT_EQ(other_locker.code, style == LockStyle::kRecord ? 1 : 2)
        << (style == LockStyle::kRecord ? "record lock" : "OFD lock");
    held->reset();
  }
  ::unlink(path.c_str());
}

}  // namespace
}  // namespace ipckit
