// Fd: owns a file descriptor and closes it when it goes out of scope. Not copyable.
#pragma once

#include <unistd.h>

namespace lastgood {

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace lastgood
