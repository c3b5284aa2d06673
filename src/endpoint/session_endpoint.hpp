// SPDX-License-Identifier: Apache-2.0
// Private to src/endpoint: the session markers (session_marker.hpp) around a message mechanism's
// Sender and Receiver, so `ipckit send mq:/q < file` + `ipckit recv mq:/q > copy` ends when the
// sender finished, and a receiver can tell a finished sender from a dead one. Applied by
// open_sender/open_receiver when wants_end_marker() says so.
#pragma once

#include <memory>

#include "adapters.hpp"

namespace ipckit::detail {

// Wraps `inner` (a message-mechanism sender) and sends the begin marker (within
// options.open_timeout; if it cannot go yet, the first send sends it); finish_until sends the end
// marker. Errors: kInvalidArgument when the mechanism's largest message is below kSessionMarkerSize;
// getrandom and send failures.
[[nodiscard]] Result<std::unique_ptr<Sender>> with_session_markers(std::unique_ptr<Sender> inner,
                                                                   const EndpointOptions& options);

// Wraps `inner`: markers are taken out of the message flow; kEndOfStream once every session whose
// begin this receiver saw has ended; kPeerDied when the senders of every open session are dead
// (checked while the mechanism has nothing to deliver; not for udp); kProtocol when a connection
// (unix-seqpacket) closes before its session ended.
[[nodiscard]] Result<std::unique_ptr<Receiver>> with_session_markers(std::unique_ptr<Receiver> inner);

}  // namespace ipckit::detail
