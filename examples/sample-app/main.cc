// lastgood-sample: the small HTTP service that lastgood deploys in its demo and tests, with
// knobs to make it slow, failing, unhealthy or crashing. See README.md for flags and routes.
//
// Exit codes: 0 after SIGTERM/SIGINT, 1 for --crash-on-start or when the port cannot be bound,
// 2 for bad flags.
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "flags.h"
#include "server.h"

namespace {

// Sleeps for `ms` unless a signal in `stop_signals` arrives first; returns true if one did.
bool SleepUnlessStopped(int64_t ms, const sigset_t& stop_signals) {
  timespec deadline;
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += ms / 1000;
  deadline.tv_nsec += (ms % 1000) * 1'000'000;
  if (deadline.tv_nsec >= 1'000'000'000) {
    deadline.tv_sec += 1;
    deadline.tv_nsec -= 1'000'000'000;
  }
  while (true) {
    timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t left_ns =
        (deadline.tv_sec - now.tv_sec) * 1'000'000'000LL + (deadline.tv_nsec - now.tv_nsec);
    if (left_ns <= 0) return false;
    timespec left{static_cast<time_t>(left_ns / 1'000'000'000),
                  static_cast<long>(left_ns % 1'000'000'000)};
    if (sigtimedwait(&stop_signals, nullptr, &left) >= 0) return true;
    if (errno != EAGAIN && errno != EINTR) return false;
  }
}

}  // namespace

int main(int argc, char** argv) {
  sample::FlagsOutcome flags = sample::ParseFlags(argc, argv, std::getenv("PORT"));
  if (!flags.error.empty()) {
    std::fprintf(stderr, "lastgood-sample: %s\n%s", flags.error.c_str(), sample::kUsage);
    return 2;
  }
  const sample::Options& options = flags.options;
  if (options.crash_on_start) {
    std::fprintf(stderr, "lastgood-sample: crashing on start, as --crash-on-start asks\n");
    std::exit(1);
  }

  // Termination signals are taken synchronously (sigtimedwait, then a signalfd in the event
  // loop) so that shutdown runs as ordinary code, not in a signal handler.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigprocmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  if (options.startup_ms > 0 && SleepUnlessStopped(options.startup_ms, stop_signals)) return 0;

  sample::Server server(options);
  if (std::string error = server.Listen(); !error.empty()) {
    std::fprintf(stderr, "lastgood-sample: %s\n", error.c_str());
    return 1;
  }
  int signal_fd = signalfd(-1, &stop_signals, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signal_fd < 0) {
    std::perror("lastgood-sample: signalfd");
    return 1;
  }
  std::printf("lastgood-sample %s listening on %s pid %d\n", options.label.c_str(),
              server.Address().c_str(), static_cast<int>(getpid()));
  std::fflush(stdout);
  return server.Run(signal_fd);
}
