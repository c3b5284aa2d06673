// SPDX-License-Identifier: Apache-2.0
// unix:/path and unix:@name: UNIX stream sockets (stream/unix_stream.hpp), framed (framing.hpp).
#include <sys/stat.h>

#include <cerrno>

#include <fmt/format.h>

#include "adapters.hpp"
#include "detail/file_kind.hpp"
#include "ipckit/stream/unix_stream.hpp"
#include "stream_socket_endpoint.hpp"

namespace ipckit::detail {
namespace {

Result<void> remove_unix_path(const Url& url) {
  if (url.address.front() == '@') return {};  // abstract: nothing in the filesystem
  return UnixStream::remove(url.address);
}

}  // namespace

Result<SenderPtr> open_unix_sender(const Url& url, const EndpointOptions& options) {
  std::optional<Error> last;
  auto s = retry_until<StreamSocket>(url, options, [&]() -> Result<std::optional<StreamSocket>> {
    auto c = UnixStream::connect(url.address);
    if (c) return std::optional<StreamSocket>(std::move(*c));
    // A path that is not a socket (a regular file, a FIFO) never becomes one by waiting: say what it is.
    if (c.error().is(ECONNREFUSED) && url.address.front() != '@') {
      struct stat st {};
      if (::lstat(url.address.c_str(), &st) == 0 && !S_ISSOCK(st.st_mode)) {
        return fail(c.error().with_hint(fmt::format("{} is {}, not a socket: check the path (a unix: receiver "
                                                    "creates the socket file itself)",
                                                    url.address, describe_file_type(st.st_mode))));
      }
    }
    // No socket file yet, or nobody listening yet: the receiver may still be starting.
    if (c.error().is(ENOENT) || c.error().is(ECONNREFUSED)) {
      last = c.error();
      return std::optional<StreamSocket>();
    }
    return fail(c.error());
  });
  if (!s) return fail(s.error());
  if (!*s) return open_timed_out(url, options, "listener", last);
  return SenderPtr(new StreamSocketSender(url, options, std::move(**s)));
}

Result<ReceiverPtr> open_unix_receiver(const Url& url, const EndpointOptions& options) {
  UnixListenOptions lo;
  lo.mode = effective_mode(url, options);
  auto l = UnixStream::listen(url.address, lo);
  if (!l) return fail(l.error());
  return ReceiverPtr(new StreamSocketReceiver(url, options, std::move(*l), &remove_unix_path));
}

}  // namespace ipckit::detail
