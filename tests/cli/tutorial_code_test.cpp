// SPDX-License-Identifier: Apache-2.0
// What goes wrong in the reference tutorials' example code, shown on this machine. Each TEST is cited
// by docs/tutorial-errata.md (section "The tutorials' code", `code: NAME`): it runs the tutorial's
// pattern with raw system calls and shows the failure, and where ipckit does it differently, runs
// ipckit's way beside it. (tutorial_claims_test.cpp checks the tutorials' claims about the kernel.)
// ipckit-test: resource-lock mqueue
#include <fcntl.h>
#include <grp.h>
#include <mqueue.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ipckit/core/unique_fd.hpp"
#include "ipckit/memory/posix_shm.hpp"
#include "ipckit/message/posix_mq.hpp"
#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

using namespace std::chrono_literals;

constexpr uid_t kNobody = 65534;

// Becomes user and group `nobody` (in a child: a test never changes its own credentials).
bool become_nobody() {
  return ::setgroups(0, nullptr) == 0 && ::setgid(kNobody) == 0 && ::setuid(kNobody) == 0;
}

// A raw POSIX queue as the tutorials make one (no O_EXCL); unlinked by the destructor.
struct RawQueue {
  std::string name;
  mqd_t q = static_cast<mqd_t>(-1);
  RawQueue(std::string n, long maxmsg, long msgsize, mode_t mode) : name(std::move(n)) {
    mq_attr attr{};
    attr.mq_maxmsg = maxmsg;
    attr.mq_msgsize = msgsize;
    q = ::mq_open(name.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, mode, &attr);
  }
  ~RawQueue() {
    if (q != static_cast<mqd_t>(-1)) ::mq_close(q);
    ::mq_unlink(name.c_str());
  }
  RawQueue(const RawQueue&) = delete;
  RawQueue& operator=(const RawQueue&) = delete;
};

// T0:107,176, T1:77,105,109,146, T2:72,111, T4:101 create their objects 0644 or 0666 under fixed
// names: any local user can then read them (and, with 0666, write them). A shm object and a queue
// made the tutorials' way are read by user nobody; the same made by ipckit (0600) are refused.
TEST(TutorialCode, WorldReadableModesLetAnyUserReadWhatIpckitKeepsPrivate) {
  if (!test::is_root()) GTEST_SKIP() << "needs root to run a child as user nobody";
  const std::string shm_name = test::unique_name();
  const int fd = ::shm_open(shm_name.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  UniqueFd shm_fd(fd);
  UnlinkGuard shm_guard(shm_name);
  ASSERT_EQ(::fchmod(fd, 0644), 0);  // what 0644 gives under the common umask 022
  ASSERT_EQ(::write(fd, "secret", 6), 6);

  const std::string mine = test::unique_name();
  auto own = PosixShm::create(mine, 4096);
  ASSERT_TRUE(own) << own.error().str();
  UnlinkGuard own_guard(mine);

  RawQueue q(test::unique_name(), 2, 64, 0644);
  ASSERT_NE(q.q, static_cast<mqd_t>(-1)) << std::strerror(errno);
  ASSERT_EQ(::fchmod(q.q, 0644), 0);
  ASSERT_EQ(::mq_send(q.q, "order #1", 8, 0), 0);

  const auto r = test::run_in_child([&]() -> int {
    if (!become_nobody()) return 90;
    // The tutorials' shm object: another user opens and reads it.
    const int other = ::shm_open(shm_name.c_str(), O_RDONLY | O_CLOEXEC, 0);
    if (other < 0) return 10;
    char buf[7] = {};
    if (::pread(other, buf, 6, 0) != 6 || std::strcmp(buf, "secret") != 0) return 11;
    // The tutorials' queue: another user opens it and takes the message away from its receiver.
    const mqd_t mq = ::mq_open(q.name.c_str(), O_RDONLY | O_CLOEXEC);
    if (mq == static_cast<mqd_t>(-1)) return 12;
    char msg[64];
    if (::mq_receive(mq, msg, sizeof msg, nullptr) != 8) return 13;
    // ipckit's 0600 object: refused.
    if (::shm_open(mine.c_str(), O_RDONLY | O_CLOEXEC, 0) >= 0 || errno != EACCES) return 14;
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
  struct stat st {};
  ASSERT_EQ(::fstat(own->native_handle(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

// T0:107 opens its queue with O_CREAT but without O_EXCL: if the name already exists, mq_open
// succeeds and the attributes passed are ignored. A queue left with bigger messages makes
// mq_receive(…, MAX_MSG, …) fail with -1 (EMSGSIZE), and T0:120 then writes recv_buf[-1].
// ipckit's receive sizes its buffer from the queue's own attributes.
TEST(TutorialCode, MqOpenWithoutExclKeepsTheOldQueueSoReceiveReturnsMinusOne) {
  RawQueue earlier(test::unique_name(), 2, 512, 0600);
  ASSERT_NE(earlier.q, static_cast<mqd_t>(-1)) << std::strerror(errno);

  mq_attr wanted{};
  wanted.mq_maxmsg = 2;
  wanted.mq_msgsize = 256;  // T0's MAX_MSG
  const mqd_t q = ::mq_open(earlier.name.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600, &wanted);
  ASSERT_NE(q, static_cast<mqd_t>(-1)) << "O_CREAT without O_EXCL opens the existing queue";
  mq_attr got{};
  ASSERT_EQ(::mq_getattr(q, &got), 0);
  EXPECT_EQ(got.mq_msgsize, 512) << "the attributes passed were ignored";
  ASSERT_EQ(::mq_send(q, "Message ONE", 11, 1), 0);
  char recv_buf[256 + 1];
  const ssize_t bytes = ::mq_receive(q, recv_buf, 256, nullptr);
  EXPECT_EQ(bytes, -1) << "T0 would now write recv_buf[" << bytes << "]";
  EXPECT_EQ(errno, EMSGSIZE);
  ::mq_close(q);

  MqOptions o;
  o.open = OpenMode::kOpenExisting;
  auto mq = PosixMq::open(earlier.name, o);
  ASSERT_TRUE(mq) << mq.error().str();
  auto m = mq->receive();
  ASSERT_TRUE(m) << m.error().str();
  EXPECT_EQ(m->data, "Message ONE");
}

// The helper for ExitAfterAFailedExecFlushesTheParentsOutputTwice: the T1:45-51 pattern. Writes a
// line through a fully buffered FILE (a file, not a terminal), forks, the child's exec fails, and it
// ends with exit(1) (args[1] == "exit") or _exit(1).
IPCKIT_TEST_HELPER(exit_after_failed_exec) {
  if (args.size() != 2) return 2;
  std::FILE* out = std::fopen(args[0].c_str(), "w");
  if (out == nullptr) return 3;
  std::fprintf(out, "[parent] starting ls\n");  // still in the buffer: a file is fully buffered
  const pid_t pid = ::fork();
  if (pid < 0) return 4;
  if (pid == 0) {
    ::execlp("/nonexistent/ipckit-no-such-program", "ls", "-la", static_cast<char*>(nullptr));
    if (args[1] == "exit") std::exit(1);  // runs the parent's stdio flush in the child too
    ::_exit(1);
  }
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return 5;
  std::fclose(out);
  return WIFEXITED(status) && WEXITSTATUS(status) == 1 ? 0 : 6;
}

std::string run_exit_helper(const std::string& how) {
  test::TempDir dir;
  const std::string file = dir.file("out");
  const pid_t pid = test::spawn_helper("exit_after_failed_exec", {file, how});
  const test::ChildResult r = test::wait_child(pid);
  EXPECT_TRUE(r.ok()) << r.describe();
  std::string text;
  if (std::FILE* in = std::fopen(file.c_str(), "r")) {
    char buf[256];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, in)) > 0) text.append(buf, n);
    std::fclose(in);
  }
  ::unlink(file.c_str());
  return text;
}

// T1:51: exit(1) after a failed exec in a forked child flushes the stdio buffers it inherited, so
// the parent's pending output is written twice (and atexit handlers run twice). _exit does not.
TEST(TutorialCode, ExitAfterAFailedExecFlushesTheParentsOutputTwice) {
  EXPECT_EQ(run_exit_helper("exit"), "[parent] starting ls\n[parent] starting ls\n");
  EXPECT_EQ(run_exit_helper("_exit"), "[parent] starting ls\n");
}

// T1:55: one read() of ls's output gets at most one buffer (and may get less): the rest is lost, and
// when the parent then closes the pipe a child still writing dies of SIGPIPE. ipckit's Subprocess
// reads to end of stream.
TEST(TutorialCode, OneReadOfAChildsOutputLosesTheRestAndKillsTheWriter) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  UniqueFd r(fds[0]);
  UniqueFd w(fds[1]);
  constexpr std::size_t kOutput = 256 * 1024;  // more than the pipe (64 KiB) and the read (4 KiB)
  const pid_t pid = test::spawn_child([&]() -> int {
    ::signal(SIGPIPE, SIG_DFL);
    r.reset();
    const std::string line(kOutput, 'x');
    std::size_t done = 0;
    while (done < line.size()) {
      const ssize_t n = ::write(w.get(), line.data() + done, line.size() - done);
      if (n < 0) return errno == EPIPE ? 20 : 21;
      done += static_cast<std::size_t>(n);
    }
    return 0;
  });
  w.reset();
  char buf[4096];
  const ssize_t n = ::read(r.get(), buf, sizeof buf);
  EXPECT_GT(n, 0);
  EXPECT_LE(n, 4096);
  r.reset();
  const test::ChildResult res = test::wait_child(pid);
  EXPECT_FALSE(res.exited) << res.describe();
  EXPECT_EQ(res.signal, SIGPIPE) << res.describe();
}

// T1:157-164: mq_notify() is called after mq_close(): the descriptor is gone (EBADF), so nothing is
// registered; and SIGUSR1, whose default action terminates, kills the process when the notification
// does arrive without a handler installed. ipckit's demo installs a handler first (posix-mq).
TEST(TutorialCode, MqNotifyAfterCloseIsEbadfAndSigusr1WithoutAHandlerKills) {
  RawQueue q(test::unique_name(), 2, 64, 0600);
  ASSERT_NE(q.q, static_cast<mqd_t>(-1)) << std::strerror(errno);
  const mqd_t closed = ::mq_open(q.name.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_NE(closed, static_cast<mqd_t>(-1));
  ASSERT_EQ(::mq_close(closed), 0);
  sigevent sev{};
  sev.sigev_notify = SIGEV_SIGNAL;
  sev.sigev_signo = SIGUSR1;
  EXPECT_EQ(::mq_notify(closed, &sev), -1);
  EXPECT_EQ(errno, EBADF);

  test::ReadyPipe ready;
  int hold[2];
  ASSERT_EQ(::pipe2(hold, O_CLOEXEC), 0);
  UniqueFd hold_r(hold[0]);
  UniqueFd hold_w(hold[1]);
  const pid_t pid = test::spawn_child([&]() -> int {
    ::signal(SIGUSR1, SIG_DFL);  // the tutorial installs no handler
    hold_w.reset();
    const mqd_t mq = ::mq_open(q.name.c_str(), O_RDONLY | O_CLOEXEC);
    if (mq == static_cast<mqd_t>(-1) || ::mq_notify(mq, &sev) != 0) return 10;
    ready.signal();
    char c;
    (void)::read(hold_r.get(), &c, 1);  // waits here until the signal arrives (or the parent gives up)
    return 0;
  });
  hold_r.reset();
  ASSERT_TRUE(ready.wait(deadline_after(10s)));
  ASSERT_EQ(::mq_send(q.q, "x", 1, 0), 0);  // empty -> non-empty: the notification fires
  const test::ChildResult res = test::wait_child(pid);
  hold_w.reset();
  EXPECT_FALSE(res.exited) << res.describe();
  EXPECT_EQ(res.signal, SIGUSR1) << res.describe();
}

// T3:150: "mq_setattr() ... can be used to change a message queue['s] attributes". Only O_NONBLOCK
// can change; mq_maxmsg and mq_msgsize passed to mq_setattr are ignored without an error.
TEST(TutorialCode, MqSetattrChangesOnlyTheNonblockFlag) {
  RawQueue q(test::unique_name(), 2, 64, 0600);
  ASSERT_NE(q.q, static_cast<mqd_t>(-1)) << std::strerror(errno);
  mq_attr want{};
  want.mq_flags = O_NONBLOCK;
  want.mq_maxmsg = 5;
  want.mq_msgsize = 128;
  ASSERT_EQ(::mq_setattr(q.q, &want, nullptr), 0);
  mq_attr got{};
  ASSERT_EQ(::mq_getattr(q.q, &got), 0);
  EXPECT_EQ(got.mq_flags & O_NONBLOCK, O_NONBLOCK);
  EXPECT_EQ(got.mq_maxmsg, 2);
  EXPECT_EQ(got.mq_msgsize, 64);
}

// T0:194-201, T1:120-125: the reader maps the object at the size it expects without checking its
// size. If the writer has not sized it yet (created, not yet ftruncate()d, or its ftruncate failed
// unchecked: T0:179, T1:106), touching the mapping kills the reader with SIGBUS. ipckit's opener
// waits (bounded) for the size and then fails with "not ready".
TEST(TutorialCode, AReaderMappingAnUnsizedObjectDiesOfSigbus) {
  const std::string name = test::unique_name();
  const int fd = ::shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  UniqueFd creator(fd);
  UnlinkGuard guard(name);
  const auto r = test::run_in_child_expecting_crash([&]() -> int {
    const int rfd = ::shm_open(name.c_str(), O_RDONLY | O_CLOEXEC, 0);
    if (rfd < 0) return 10;
    void* p = ::mmap(nullptr, 68, PROT_READ, MAP_SHARED, rfd, 0);  // T0's struct shared_data
    if (p == MAP_FAILED) return 11;
    return *static_cast<volatile const int*>(p);  // the counter: SIGBUS
  });
  EXPECT_FALSE(r.exited) << r.describe();
  EXPECT_EQ(r.signal, SIGBUS) << r.describe();

  ShmOpenOptions o;
  o.access = Access::kReadOnly;
  o.ready_timeout = 50ms;
  const auto opened = PosixShm::open(name, o);
  ASSERT_FALSE(opened);
  EXPECT_TRUE(opened.error().is(LibraryCode::kNotReady)) << opened.error().str();
}

// T0:205, T1:132: the reader removes the name after reading: a second reader (or the same program
// run again) finds nothing. In ipckit nothing is removed implicitly: the creator, an UnlinkGuard or
// `--remove-on-exit` decides.
TEST(TutorialCode, AReaderThatUnlinksLeavesTheNextReaderNothing) {
  const std::string name = test::unique_name();
  auto shm = PosixShm::create(name, 4096);
  ASSERT_TRUE(shm) << shm.error().str();
  UnlinkGuard guard(name);
  const auto first = test::run_in_child([&]() -> int {
    const int rfd = ::shm_open(name.c_str(), O_RDONLY | O_CLOEXEC, 0);
    if (rfd < 0) return 10;
    return ::shm_unlink(name.c_str()) == 0 ? 0 : 11;  // T0's reader cleans up
  });
  ASSERT_TRUE(first.ok()) << first.describe();
  EXPECT_LT(::shm_open(name.c_str(), O_RDONLY | O_CLOEXEC, 0), 0);
  EXPECT_EQ(errno, ENOENT);
}

// T0:59,255: wait(NULL) reaps the child and throws its status away: a child that failed looks like
// one that succeeded. (T0's Example 1 also calls wait() without including <sys/wait.h>.)
TEST(TutorialCode, WaitWithNullDiscardsTheChildsFailure) {
  const pid_t failing = ::fork();
  ASSERT_GE(failing, 0);
  if (failing == 0) ::_exit(3);
  EXPECT_EQ(::wait(nullptr), failing) << "wait(NULL) reports only that some child ended";
  const pid_t again = ::fork();
  ASSERT_GE(again, 0);
  if (again == 0) ::_exit(3);
  int status = 0;
  ASSERT_EQ(::waitpid(again, &status, 0), again);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 3) << "the status says it failed";
}

// T2:73: shmat() is never checked; it fails with (void*)-1, not NULL, so a NULL check would not
// catch it either, and T2:74's strcpy into it crashes.
TEST(TutorialCode, ShmatFailureIsMinusOneNotNull) {
  errno = 0;
  void* p = ::shmat(-1, nullptr, 0);
  EXPECT_EQ(p, reinterpret_cast<void*>(-1));
  EXPECT_NE(p, nullptr);
  EXPECT_EQ(errno, EINVAL);
}

// T4:30: "Both use two standard file descriptors on each end of the connection". A pipe has one
// descriptor per end: pipefd[0] only reads, pipefd[1] only writes (writing the read end is EBADF).
TEST(TutorialCode, APipeHasOneDescriptorPerEndEachOneWay) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  UniqueFd r(fds[0]);
  UniqueFd w(fds[1]);
  EXPECT_EQ(::fcntl(r.get(), F_GETFL) & O_ACCMODE, O_RDONLY);
  EXPECT_EQ(::fcntl(w.get(), F_GETFL) & O_ACCMODE, O_WRONLY);
  EXPECT_EQ(::write(r.get(), "x", 1), -1);
  EXPECT_EQ(errno, EBADF);
}

}  // namespace
}  // namespace ipckit
