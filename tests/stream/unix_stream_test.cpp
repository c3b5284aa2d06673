// SPDX-License-Identifier: Apache-2.0
#include "ipckit/stream/unix_stream.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "support/ipckit_test.hpp"

namespace ipckit {
namespace {

using namespace std::chrono_literals;

std::span<std::byte> bytes_of(std::string& s) { return as_writable_bytes(s); }

// A child connects, sends `msg`, reads the echo and checks it.
pid_t spawn_echo_client(const std::string& address, const std::string& msg) {
  return test::spawn_child([address, msg] {
    auto s = UnixStream::connect(address);
    if (!s) return 2;
    auto w = s->write_all(msg);
    if (!w || !w->ok()) return 3;
    if (!s->shutdown(ShutdownHow::kWrite)) return 4;
    auto echo = s->read_to_end();
    return (echo && *echo == msg) ? 0 : 5;
  });
}

void serve_one_echo(StreamListener& l) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(StreamSocket c, l.accept());
  IPCKIT_ASSERT_OK_AND_ASSIGN(std::string got, c.read_to_end());  // until the client's shutdown
  IPCKIT_ASSERT_OK_AND_ASSIGN(IoResult w, c.write_all(got));
  EXPECT_TRUE(w.ok());
}

TEST(UnixStream, PathListenerEchoesToAChildProcess) {
  test::TempDir dir;
  const std::string path = dir.file("echo.sock");
  IPCKIT_ASSERT_OK_AND_ASSIGN(StreamListener l, UnixStream::listen(path));
  IPCKIT_ASSERT_OK_AND_ASSIGN(SocketAddress a, l.local_address());
  EXPECT_EQ(a.to_string(), path);
  const pid_t pid = spawn_echo_client(path, "over a path");
  serve_one_echo(l);
  EXPECT_TRUE(test::wait_child(pid).ok());
  IPCKIT_ASSERT_OK(l.close_and_unlink());
  EXPECT_NE(::access(path.c_str(), F_OK), 0);
}

TEST(UnixStream, AbstractNameEchoesToAChildProcessAndLeavesNoFile) {
  const std::string name = test::unique_abstract_name();
  IPCKIT_ASSERT_OK_AND_ASSIGN(StreamListener l, UnixStream::listen(name));
  IPCKIT_ASSERT_OK_AND_ASSIGN(SocketAddress a, l.local_address());
  EXPECT_EQ(a.to_string(), name);
  const pid_t pid = spawn_echo_client(name, std::string(100000, 'z'));
  serve_one_echo(l);
  EXPECT_TRUE(test::wait_child(pid).ok());
  // A second listener on the same abstract name is refused, naming it.
  EXPECT_TRUE(test::FailsWith(UnixStream::listen(name), {"bind(\"" + name + "\")", "EADDRINUSE", "abstract name"}));
}

TEST(UnixStream, SocketFileIs0600EvenUnderAZeroUmaskAndModeIsSettable) {
  test::TempDir dir;
  const std::string path = dir.file("s");
  const mode_t old = ::umask(0);
  auto l = UnixStream::listen(path);
  UnixListenOptions group;
  group.mode = 0660;
  auto g = UnixStream::listen(dir.file("g"), group);
  ::umask(old);
  IPCKIT_ASSERT_OK(l);
  IPCKIT_ASSERT_OK(g);
  struct stat st {};
  ASSERT_EQ(::lstat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  ASSERT_EQ(::lstat(dir.file("g").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0660u);
  // The private bind directory is gone.
  int entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++entries;
  EXPECT_EQ(entries, 2);
}

TEST(UnixStream, StaleSocketOfOursIsReplaced) {
  test::TempDir dir;
  const std::string path = dir.file("stale.sock");
  {
    IPCKIT_ASSERT_OK_AND_ASSIGN(StreamListener crashed, UnixStream::listen(path));
  }  // closed without unlink: the file stays, nobody listens (a crashed server)
  ASSERT_EQ(::access(path.c_str(), F_OK), 0);
  EXPECT_TRUE(test::FailsWith(UnixStream::connect(path), {"connect(\"" + path + "\")", "ECONNREFUSED", "nobody is listening"}));
  UnixListenOptions keep;
  keep.remove_stale = false;
  EXPECT_TRUE(test::FailsWith(UnixStream::listen(path, keep), {"bind(\"" + path + "\")", "EADDRINUSE", "remove_stale is off"}));
  IPCKIT_ASSERT_OK_AND_ASSIGN(StreamListener fresh, UnixStream::listen(path));
  IPCKIT_ASSERT_OK_AND_ASSIGN(StreamSocket c, UnixStream::connect(path));
  IPCKIT_ASSERT_OK_AND_ASSIGN(StreamSocket s, fresh.accept());
  IPCKIT_ASSERT_OK(c.write_all("x"));
  std::string b(1, '\0');
  IPCKIT_ASSERT_OK_AND_ASSIGN(IoResult r, s.read_exact(bytes_of(b)));
  EXPECT_TRUE(r.ok());
}

TEST(UnixStream, LiveSocketIsNeverReplaced) {
  test::TempDir dir;
  const std::string path = dir.file("live.sock");
  IPCKIT_ASSERT_OK_AND_ASSIGN(StreamListener first, UnixStream::listen(path));
  EXPECT_TRUE(test::FailsWith(UnixStream::listen(path), {"bind(\"" + path + "\")", "EADDRINUSE", "a live server"}));
  // The refusal did not connect to the first server: nothing is queued on it (a probe connection
  // would be taken by a one-connection server for its client).
  IPCKIT_ASSERT_OK_AND_ASSIGN(Attempt<StreamSocket> probe, first.try_accept());
  EXPECT_FALSE(probe.has_value());
  IPCKIT_ASSERT_OK(UnixStream::connect(path));  // the first server still owns it
}

TEST(UnixStream, NonSocketFileIsNeverReplaced) {
  test::TempDir dir;
  const std::string path = dir.file("data.txt");
  std::ofstream(path) << "keep me";
  EXPECT_TRUE(test::FailsWith(UnixStream::listen(path), {"bind(\"" + path + "\")", "EADDRINUSE", "regular file, not a socket"}));
  EXPECT_TRUE(test::FailsWith(UnixStream::remove(path), {"unlink(\"" + path + "\")", "ENOTSOCK", "regular file"}));
  std::ifstream in(path);
  std::string s;
  std::getline(in, s);
  EXPECT_EQ(s, "keep me");
}

TEST(UnixStream, StaleSocketOfAnotherUserIsNeverReplaced) {
  if (!test::is_root()) GTEST_SKIP() << "needs root to chown a socket file to another uid";
  test::TempDir dir;
  const std::string path = dir.file("theirs.sock");
  {
    IPCKIT_ASSERT_OK_AND_ASSIGN(StreamListener l, UnixStream::listen(path));
  }
  ASSERT_EQ(::chown(path.c_str(), 65534, 65534), 0);
  EXPECT_TRUE(test::FailsWith(UnixStream::listen(path), {"bind(\"" + path + "\")", "EADDRINUSE", "owned by uid 65534"}));
  IPCKIT_ASSERT_OK(UnixStream::remove(path));
}

TEST(UnixStream, ConnectErrorsNameTheAddress) {
  const std::string missing = test::unique_path();
  EXPECT_TRUE(test::FailsWith(UnixStream::connect(missing), {"connect(\"" + missing + "\")", "ENOENT", "no socket file"}));
  const std::string abstract = test::unique_abstract_name();
  EXPECT_TRUE(test::FailsWith(UnixStream::connect(abstract), {"connect(\"" + abstract + "\")", "ECONNREFUSED"}));
  const std::string too_long = "/tmp/" + std::string(200, 'x');
  EXPECT_TRUE(test::FailsWith(UnixStream::connect(too_long), {"sockaddr_un", "sun_path holds at most 107"}));
  EXPECT_TRUE(test::FailsWith(UnixStream::listen(""), {"sockaddr_un", "empty"}));
  const std::string in_missing_dir = test::unique_path() + "/s";
  EXPECT_TRUE(test::FailsWith(UnixStream::listen(in_missing_dir), {"mkdtemp", "ENOENT", "must exist"}));
}

TEST(UnixStream, PeerCredentialsNameTheConnectingProcess) {
  const std::string name = test::unique_abstract_name();
  IPCKIT_ASSERT_OK_AND_ASSIGN(StreamListener l, UnixStream::listen(name));
  test::ReadyPipe done;
  const pid_t pid = test::spawn_child([&] {
    auto s = UnixStream::connect(name);
    if (!s) return 2;
    auto creds = s->peer_credentials();  // the listener's process: our parent
    if (!creds || creds->pid != ::getppid()) return 3;
    done.wait(deadline_after(10s));
    return 0;
  });
  IPCKIT_ASSERT_OK_AND_ASSIGN(StreamSocket c, l.accept());
  IPCKIT_ASSERT_OK_AND_ASSIGN(PeerCredentials cred, c.peer_credentials());
  EXPECT_EQ(cred.pid, pid);
  EXPECT_EQ(cred.uid, ::geteuid());
  EXPECT_EQ(cred.gid, ::getegid());
  done.signal();
  EXPECT_TRUE(test::wait_child(pid).ok());
}

TEST(UnixStream, ShutdownWriteEndsThePeersReadButNotOurs) {
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto pair, UnixStream::pair());
  auto& [a, b] = pair;
  IPCKIT_ASSERT_OK(a.write_all("question"));
  IPCKIT_ASSERT_OK(a.shutdown(ShutdownHow::kWrite));
  IPCKIT_ASSERT_OK_AND_ASSIGN(std::string q, b.read_to_end());
  EXPECT_EQ(q, "question");
  IPCKIT_ASSERT_OK(b.write_all("answer"));
  (void)b.close();
  IPCKIT_ASSERT_OK_AND_ASSIGN(std::string ans, a.read_to_end());
  EXPECT_EQ(ans, "answer");
}

TEST(UnixStream, WriteToAClosedPeerIsPeerClosedNotSigpipe) {
  auto child = test::run_in_child([] {
    ::signal(SIGPIPE, SIG_DFL);
    auto pair = UnixStream::pair();
    if (!pair) return 2;
    (void)pair->second.close();
    std::string big(1 << 20, 'p');
    auto w = pair->first.write_all(big);
    if (!w || w->status != IoStatus::kPeerClosed) return 3;
    auto t = pair->first.try_write("x");
    return (t && t->status == IoStatus::kPeerClosed) ? 0 : 4;
  });
  EXPECT_TRUE(child.ok()) << child.describe();
}

TEST(UnixStream, TryAndDeadlineFormsOnAcceptAndRead) {
  const std::string name = test::unique_abstract_name();
  IPCKIT_ASSERT_OK_AND_ASSIGN(StreamListener l, UnixStream::listen(name));
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto none, l.try_accept());
  EXPECT_FALSE(none.has_value());
  auto start = Clock::now();
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto late, l.accept_until(start + 20ms));
  EXPECT_FALSE(late.has_value());
  EXPECT_GE(Clock::now() - start, 20ms);

  IPCKIT_ASSERT_OK_AND_ASSIGN(auto c, UnixStream::connect_until(name, deadline_after(10s)));
  ASSERT_TRUE(c.has_value());
  IPCKIT_ASSERT_OK_AND_ASSIGN(auto s, l.try_accept());
  ASSERT_TRUE(s.has_value());
  std::string buf(8, '\0');
  IPCKIT_ASSERT_OK_AND_ASSIGN(IoResult t, s->try_read(bytes_of(buf)));
  EXPECT_EQ(t.status, IoStatus::kWouldBlock);
  IPCKIT_ASSERT_OK(c->write_all("abc"));
  start = Clock::now();
  IPCKIT_ASSERT_OK_AND_ASSIGN(IoResult r, s->read_exact_until(bytes_of(buf), start + 20ms));
  EXPECT_EQ(r.status, IoStatus::kTimedOut);
  EXPECT_EQ(r.bytes, 3u);
  EXPECT_GE(Clock::now() - start, 20ms);
  // The socket itself stays blocking: the try/deadline forms used MSG_DONTWAIT.
  IPCKIT_ASSERT_OK_AND_ASSIGN(bool nb, is_nonblocking(s->native_handle()));
  EXPECT_FALSE(nb);
}

TEST(UnixStream, CloseAndUnlinkLeavesANewerServersSocketAlone) {
  test::TempDir dir;
  const std::string path = dir.file("handover.sock");
  IPCKIT_ASSERT_OK_AND_ASSIGN(StreamListener old_server, UnixStream::listen(path));
  ASSERT_EQ(::unlink(path.c_str()), 0);  // an operator removed it; a new server took the path
  IPCKIT_ASSERT_OK_AND_ASSIGN(StreamListener new_server, UnixStream::listen(path));
  IPCKIT_ASSERT_OK(old_server.close_and_unlink());
  EXPECT_EQ(::access(path.c_str(), F_OK), 0);
  IPCKIT_ASSERT_OK(UnixStream::connect(path));
  IPCKIT_ASSERT_OK(new_server.close_and_unlink());
  EXPECT_NE(::access(path.c_str(), F_OK), 0);
}

TEST(UnixStream, LongPathNearTheSunPathLimitStillBindsPrivately) {
  test::TempDir dir;
  // The final path fits sun_path (107), the private bind path beside it would not: the listener
  // reaches its private directory through /proc/self/fd/N instead.
  std::string sub = dir.path() + "/";
  sub += std::string(100 - sub.size() - 4, 'd');
  ASSERT_EQ(::mkdir(sub.c_str(), 0700), 0);
  const std::string path = sub + "/s.k";
  ASSERT_LE(path.size(), 107u);
  IPCKIT_ASSERT_OK_AND_ASSIGN(StreamListener l, UnixStream::listen(path));
  struct stat st {};
  ASSERT_EQ(::lstat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  IPCKIT_ASSERT_OK(UnixStream::connect(path));
  IPCKIT_ASSERT_OK(l.accept());
  IPCKIT_ASSERT_OK(l.close_and_unlink());
}

}  // namespace
}  // namespace ipckit
