#include "router/socket_handoff.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace lastgood {
namespace {

TEST(SocketHandoff, PassesTheTextAndDescriptorsOfTheSameOpenFiles) {
  int pair[2];
  ASSERT_TRUE(HandoffPair(pair).ok());
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  ASSERT_TRUE(SendHandoff(pair[0], "hold 127.0.0.1:80", {pipe_fds[1]}).ok());
  auto m = ReceiveHandoff(pair[1], 1000);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->text, "hold 127.0.0.1:80");
  ASSERT_EQ(m->fds.size(), 1u);
  EXPECT_NE(m->fds[0], pipe_fds[1]) << "a descriptor of its own";
  // The sender closes its copy; the received one still writes into the same pipe.
  ::close(pipe_fds[1]);
  ASSERT_EQ(::write(m->fds[0], "x", 1), 1);
  char c = 0;
  EXPECT_EQ(::read(pipe_fds[0], &c, 1), 1);
  EXPECT_EQ(c, 'x');
  EXPECT_EQ(HandoffPeerUid(pair[1]), static_cast<int>(::getuid()));
  for (int fd : {pipe_fds[0], m->fds[0], pair[0], pair[1]}) ::close(fd);
}

TEST(SocketHandoff, APeerThatClosedIsUnavailableAndSilenceTimesOut) {
  int pair[2];
  ASSERT_TRUE(HandoffPair(pair).ok());
  auto silent = ReceiveHandoff(pair[1], 10);
  ASSERT_FALSE(silent.ok());
  EXPECT_NE(silent.error().message.find("no message"), std::string::npos);
  ::close(pair[0]);
  auto closed = ReceiveHandoff(pair[1], 1000);
  ASSERT_FALSE(closed.ok());
  EXPECT_EQ(closed.error().message, "closed");
  ::close(pair[1]);
}

TEST(SocketHandoff, AMessageTooLongIsRefusedAndItsDescriptorsClosed) {
  int pair[2];
  ASSERT_TRUE(HandoffPair(pair).ok());
  EXPECT_FALSE(SendHandoff(pair[0], std::string(kHandoffTextLimit + 1, 'a')).ok());
  // A peer that does not use SendHandoff: a longer text with a descriptor.
  std::string text(kHandoffTextLimit + 100, 'a');
  int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  iovec iov{text.data(), text.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &devnull, sizeof devnull);
  ASSERT_GT(::sendmsg(pair[0], &msg, 0), 0);
  auto m = ReceiveHandoff(pair[1], 1000);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("cut short"), std::string::npos);
  for (int fd : {devnull, pair[0], pair[1]}) ::close(fd);
}

}  // namespace
}  // namespace lastgood
