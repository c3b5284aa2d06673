// SPDX-License-Identifier: Apache-2.0
// A program outside the ipckit tree, built against an installed ipckit (tests/install). It uses the
// public names consumers rely on (EndpointOptions::create, open_sender, open_receiver,
// SendStatus::kOk, to_string(ReceiveStatus), Receiver::receive(std::string&), remove_object(), the
// URL option mode=), so renaming one breaks this test. It prints the C++ standard it was built with:
// the install test checks that a C++23 consumer stays C++23.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "ipckit/core/core.hpp"
#include "ipckit/endpoint/endpoint.hpp"
#include "ipckit/version.hpp"

int main() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return 1;
  ipckit::UniqueFd r(fds[0]), w(fds[1]);
  auto wrote = ipckit::write_full(w.get(), ipckit::as_bytes("ok"));
  if (!wrote || !wrote->ok()) return 2;
  char buf[2];
  auto got = ipckit::read_full(r.get(), std::as_writable_bytes(std::span(buf)));
  if (!got || got->bytes != 2) return 3;

  // One message through a channel endpoint, then the object is removed.
  const std::string url = "chan:/ipckit.install-consumer." + std::to_string(::getpid()) + "?mode=0600";
  ipckit::EndpointOptions options;
  options.create = true;
  auto rx = ipckit::open_receiver(url, options);
  if (!rx) {
    std::fprintf(stderr, "%s\n", rx.error().str().c_str());
    return 4;
  }
  auto tx = ipckit::open_sender(url, options);
  if (!tx) {
    std::fprintf(stderr, "%s\n", tx.error().str().c_str());
    (void)(*rx)->remove_object();
    return 5;
  }
  auto sent = (*tx)->send(std::string_view("endpoint"));
  std::string message;
  auto received = (sent && *sent == ipckit::SendStatus::kOk) ? (*rx)->receive(message)
                                                              : ipckit::Result<ipckit::ReceiveStatus>(ipckit::ReceiveStatus::kTimedOut);
  auto removed = (*rx)->remove_object();
  if (!received || !removed) return 6;
  std::printf("ipckit %s %.2s %s %s c++%ld\n", ipckit::kVersionString, buf, std::string(ipckit::to_string(*received)).c_str(),
              message.c_str(), static_cast<long>(__cplusplus));
  return 0;
}
