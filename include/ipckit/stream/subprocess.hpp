// SPDX-License-Identifier: Apache-2.0
// Subprocess: run a program (argv, no shell unless asked) with any of stdin/stdout/stderr connected
// to pipes, wait for it with its exit status or signal, and a popen-like convenience.
//
// Spawning: argv, the environment and every path are prepared before fork(); the child then runs only
// async-signal-safe calls (setsid, ioctl, dup2, chdir, sigprocmask, close_range, fcntl, execve), so
// a multithreaded parent is safe (no malloc after fork). A failure in the child before exec (execve's
// ENOENT, a bad cwd, ...) is sent back over a close-on-exec pipe and returned by spawn() as an Error
// naming the call and the program.
//
// Descriptors: the child gets 0, 1 and 2 as configured, the descriptors listed in pass_fds, and
// nothing else: every other descriptor is marked close-on-exec in the child (close_range with
// CLOSE_RANGE_CLOEXEC), including ones a careless library opened without O_CLOEXEC. The child starts
// with an empty signal mask and SIGPIPE at its default action, as a program launched by a shell.
//
// Waiting: a pidfd (pidfd_open, Linux 5.3+) makes wait_until() a poll and native_handle() an fd an
// event loop can watch; where pidfd_open is missing, wait_until() polls waitpid(WNOHANG) with a
// short growing pause and native_handle() is -1.
//
// Destruction policy: a Subprocess that was neither waited for nor detach()ed kills its child on
// destruction: pipes closed, SIGKILL, then waitpid, so no zombie and no orphan outlives the object.
// Call detach() to let the child run on (it is then reaped by init when both exit, or by a later
// waitpid of the caller's own).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ipckit/core/attempt.hpp"
#include "ipckit/core/deadline.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/core/unique_fd.hpp"
#include "ipckit/stream/pipe.hpp"

namespace ipckit {

/// What one of the child's descriptors 0, 1, 2 is connected to.
struct Stdio {
  /// The kinds of connection.
  enum class Kind { kInherit, kPipe, kNull, kFd };
  Kind kind = Kind::kInherit;  ///< what the descriptor is connected to
  int fd = -1;  ///< for kFd: dup2()ed onto the child's descriptor; the caller keeps ownership

  /// The child shares the parent's descriptor (the default).
  static Stdio inherit() { return {}; }
  /// A new pipe; the parent's end is Subprocess::in(), out() or err().
  static Stdio pipe() { return {Kind::kPipe, -1}; }
  /// /dev/null.
  static Stdio null() { return {Kind::kNull, -1}; }
  /// The caller's descriptor \p fd, dup2()ed onto the child's; the caller keeps ownership.
  static Stdio from_fd(int fd) { return {Kind::kFd, fd}; }
};

/// How Subprocess::spawn() sets up the child.
struct SubprocessOptions {
  Stdio in;   ///< the child's stdin (descriptor 0)
  Stdio out;  ///< the child's stdout (descriptor 1)
  Stdio err;  ///< the child's stderr (descriptor 2)
  bool stderr_to_stdout = false;             ///< `2>&1` (after `out` is set up)
  std::optional<std::vector<std::string>> env;  ///< replaces the environment ("K=V" entries); unset: inherit
  std::string cwd;                           ///< chdir() in the child; "" = stay
  std::vector<int> pass_fds;                 ///< kept open across exec at the same numbers
  bool new_session = false;                  ///< setsid() in the child
  int controlling_terminal = -1;             ///< with new_session: TIOCSCTTY on this tty fd (see pty.hpp)
};

/// How a child ended.
struct IPCKIT_API ExitStatus {
  bool exited = false;  ///< true: exit code is `code`; false: killed by `signal`
  int code = -1;        ///< the exit code when `exited`, else -1
  int signal = 0;       ///< the terminating signal when not `exited`, else 0
  /// Whether the child exited with code 0.
  [[nodiscard]] bool success() const noexcept { return exited && code == 0; }
  /// "exited 0", "exited 3", "killed by SIGKILL".
  [[nodiscard]] std::string describe() const;
  /// Decodes a waitpid() status (WIFEXITED/WEXITSTATUS, WIFSIGNALED/WTERMSIG).
  [[nodiscard]] static ExitStatus from_wait_status(int status) noexcept;
};

/// The result of Subprocess::run().
struct CommandOutput {
  std::string out;    ///< everything the child wrote to stdout
  ExitStatus status;  ///< how the child ended
};

/// A child process started with fork/execve, with optional pipes to its stdin, stdout and stderr.
/// Kills and reaps its child on destruction unless waited for or detached (see subprocess.hpp).
/// Movable, not copyable; not thread-safe.
class IPCKIT_API Subprocess {
 public:
  /// No child.
  Subprocess() = default;
  /// Takes over the child and its pipes; \p other is left without a child.
  Subprocess(Subprocess&& other) noexcept;
  /// Kills and reaps this object's own child first (as the destructor does), then takes over
  /// \p other's; \p other is left without a child.
  Subprocess& operator=(Subprocess&& other) noexcept;
  /// Not copyable.
  Subprocess(const Subprocess&) = delete;
  /// Not copyable.
  Subprocess& operator=(const Subprocess&) = delete;
  /// See "Destruction policy" in subprocess.hpp: kills and reaps a child that was not waited for or
  /// detached.
  ~Subprocess();

  /// Starts argv[0] (searched in PATH when it has no '/') with argv. Blocks only until the child has
  /// exec()ed (or failed to). Errors: "execvp("prog"): ENOENT: ..." when not found, the child's
  /// failing call (execve/chdir/dup2) with its errno, fork/pipe2 limits.
  [[nodiscard]] static Result<Subprocess> spawn(const std::vector<std::string>& argv,
                                                const SubprocessOptions& options = {});
  /// argv that runs \p command through /bin/sh -c: the only way ipckit ever uses a shell.
  [[nodiscard]] static std::vector<std::string> shell(std::string_view command);

  /// popen(argv, "r"): stdout connected to a pipe, read it with out().
  [[nodiscard]] static Result<Subprocess> open_read(const std::vector<std::string>& argv);
  /// popen(argv, "w"): stdin connected to a pipe, write it with in(); wait() closes it first.
  [[nodiscard]] static Result<Subprocess> open_write(const std::vector<std::string>& argv);
  /// Runs to completion: feeds \p input to stdin (stdin is /dev/null when input is empty), collects
  /// stdout (at most \p limit bytes: kTooLarge error beyond), waits. Input and output are interleaved
  /// with poll(), so large amounts in both directions cannot deadlock. Blocks without a deadline;
  /// the stdin and stdout settings of \p options are overwritten.
  [[nodiscard]] static Result<CommandOutput> run(const std::vector<std::string>& argv, std::string_view input = {},
                                                 SubprocessOptions options = {},
                                                 std::size_t limit = std::size_t{64} << 20);

  /// The child's process id (-1 when there is none, or after detach()).
  [[nodiscard]] pid_t pid() const noexcept { return pid_; }
  /// The pidfd (readable when the child exits), or -1 where pidfd_open is unavailable.
  [[nodiscard]] int native_handle() const noexcept { return pidfd_.get(); }
  /// The parent's end of the stdin pipe (nullptr unless stdin is Stdio::pipe(), or once closed).
  [[nodiscard]] PipeWriter* in() noexcept { return in_.valid() ? &in_ : nullptr; }
  /// The parent's end of the stdout pipe (nullptr unless stdout is Stdio::pipe()).
  [[nodiscard]] PipeReader* out() noexcept { return out_.valid() ? &out_ : nullptr; }
  /// The parent's end of the stderr pipe (nullptr unless stderr is Stdio::pipe()).
  [[nodiscard]] PipeReader* err() noexcept { return err_.valid() ? &err_ : nullptr; }

  /// Blocks until the child ends (closing the stdin pipe first, so a child that reads to end of
  /// stream can finish). Errors: ECHILD when already reaped elsewhere, detached or never started.
  /// Not thread-safe.
  [[nodiscard]] Result<ExitStatus> wait();
  /// Never blocks: the status if the child has ended, else none with kWouldBlock.
  [[nodiscard]] Result<Attempt<ExitStatus>> try_wait();
  /// Waits until \p deadline; none with kTimedOut when the child is still running then. Does not
  /// close stdin.
  [[nodiscard]] Result<Attempt<ExitStatus>> wait_until(Deadline deadline);
  /// Sends \p signal (through the pidfd when there is one, so a reused pid is never hit). ESRCH-free:
  /// a child that already ended (but is not reaped) is not an error.
  [[nodiscard]] Result<void> kill(int signal);
  /// Gives up on the child: the destructor will neither kill nor reap it.
  void detach() noexcept { pid_ = -1; }
  /// Whether there is a child that has not been seen to end (nor detached).
  [[nodiscard]] bool running() const noexcept { return pid_ > 0 && !status_; }

 private:
  void reset() noexcept;
  pid_t pid_ = -1;
  UniqueFd pidfd_;
  std::optional<ExitStatus> status_;
  std::string name_;
  PipeWriter in_;
  PipeReader out_;
  PipeReader err_;
};

}  // namespace ipckit
