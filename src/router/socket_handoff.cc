#include "router/socket_handoff.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace lastgood {

Status SendHandoff(int sock, const std::string& text, const std::vector<int>& fds) {
  if (text.size() > kHandoffTextLimit || fds.size() > kHandoffFdLimit)
    return Error::InvalidInput("handoff message too large");
  iovec iov{const_cast<char*>(text.data()), text.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  std::vector<char> control;
  if (!fds.empty()) {
    control.assign(CMSG_SPACE(sizeof(int) * fds.size()), 0);
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  for (;;) {
    if (::sendmsg(sock, &msg, MSG_NOSIGNAL) >= 0) return Status::Ok();
    if (errno != EINTR) return Error::Unavailable(std::string("handoff send: ") + strerror(errno));
  }
}

Result<HandoffMessage> ReceiveHandoff(int sock, int timeout_ms) {
  pollfd p{sock, POLLIN, 0};
  for (;;) {
    int n = ::poll(&p, 1, timeout_ms);
    if (n > 0) break;
    if (n == 0)
      return Error::Unavailable("handoff: no message within " + std::to_string(timeout_ms) + " ms");
    if (errno != EINTR) return Error::Unavailable(std::string("handoff poll: ") + strerror(errno));
  }
  char text[kHandoffTextLimit + 1];
  iovec iov{text, sizeof text};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kHandoffFdLimit)];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return Error::Unavailable(std::string("handoff receive: ") + strerror(errno));
  HandoffMessage out;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      out.fds.push_back(fd);
    }
  }
  if (n == 0 && out.fds.empty()) return Error::Unavailable("closed");
  if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 ||
      static_cast<size_t>(n) > kHandoffTextLimit) {
    for (int fd : out.fds) ::close(fd);
    return Error::InvalidInput("handoff message cut short");
  }
  out.text.assign(text, static_cast<size_t>(n));
  return out;
}

Status HandoffPair(int fds[2]) {
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0)
    return Error::Internal(std::string("socketpair: ") + strerror(errno));
  return Status::Ok();
}

int HandoffPeerUid(int sock) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return -1;
  return static_cast<int>(cred.uid);
}

}  // namespace lastgood
