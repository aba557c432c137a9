// SocketHandoff: the messages router processes exchange over a unix SOCK_SEQPACKET socket
// (issue 13, docs/router.md "How the sockets move"): a short text ("hold 127.0.0.1:8080",
// "ready", "take-over", …) and, with it, open descriptors passed with SCM_RIGHTS. The
// kernel installs the descriptors in the receiver as new ones (close-on-exec), so sender and
// receiver each own a descriptor of the same listening socket: the socket lives until the
// last process holding it closes it, and connections waiting in its backlog are never reset
// by one of them exiting.
//
// Plain functions on a descriptor; the caller serialises use of one socket.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"

namespace lastgood {

// Longest text of one message; listener addresses are far shorter.
inline constexpr size_t kHandoffTextLimit = 512;
// Most descriptors in one message (the kernel's SCM_MAX_FD is 253).
inline constexpr size_t kHandoffFdLimit = 200;

struct HandoffMessage {
  std::string text;
  std::vector<int> fds;  // owned by the receiver, close-on-exec
};

// Sends one message. REQUIRES: text.size() <= kHandoffTextLimit, fds.size() <=
// kHandoffFdLimit. The caller keeps its own descriptors.
Status SendHandoff(int sock, const std::string& text, const std::vector<int>& fds = {});

// Receives one message, waiting at most `timeout_ms` (-1: no limit). The peer closing is
// Unavailable("closed"); a message whose text or descriptors were cut short is refused
// (its descriptors closed).
Result<HandoffMessage> ReceiveHandoff(int sock, int timeout_ms);

// A connected SOCK_SEQPACKET pair (close-on-exec), for a process and the child it starts.
Status HandoffPair(int fds[2]);

// The uid of the peer of a connected unix socket, from the kernel; -1 if unknown.
int HandoffPeerUid(int sock);

}  // namespace lastgood
