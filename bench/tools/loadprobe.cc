// loadprobe: a steady HTTP/1.1 load that records every response, for benchmarks and
// fault tests that must say exactly which version served which request, and when.
//
//   loadprobe --port P [--host 127.0.0.1] [--connections N] [--seconds S] [--rate R]
//             [--path /] [--out FILE] [--check-reuse 1]
//
// Each connection sends GET requests one after another on a keep-alive connection
// (reconnecting after an error, or after a response saying Connection: close), at most R
// requests/s in all (0: as fast as it can). With --check-reuse 1 an idle connection that the
// server has closed is not reused (as browsers and HTTP client libraries check).
// With --out, one line per request: "<start_ns> <end_ns> <status> <label>", status 0 for
// a transport error, whose label then says which: "refused" (connect refused), "error";
// times are CLOCK_REALTIME nanoseconds, comparable with `date +%s%N`; a request that needed a
// new connection starts before its connect.
// At the end it prints: requests, failures (non-2xx or transport errors), and per label
// the count. Exit code 0.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Record {
  int64_t start, end;
  int status;
  std::string label;
};

int64_t NowNs() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// Whether the server closed this idle connection (end of stream or an error waiting).
bool PeerClosed(int fd) {
  pollfd p{fd, POLLIN | POLLRDHUP, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  char byte;
  ssize_t n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

int Connect(const std::string& host, int port, int* err) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct timeval tv {
    5, 0
  };
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    *err = errno;
    ::close(fd);
    return -1;
  }
  return fd;
}

// Reads one response; returns status (0 on error) and the X-Lastgood-Label header;
// *close when the response says Connection: close.
int ReadResponse(int fd, std::string& buf, std::string& label, bool* close) {
  size_t head_end;
  while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
    char tmp[8192];
    ssize_t n = ::read(fd, tmp, sizeof tmp);
    if (n <= 0) return 0;
    buf.append(tmp, n);
  }
  std::string head = buf.substr(0, head_end);
  int status = 0;
  if (head.size() > 12) status = std::atoi(head.c_str() + 9);
  size_t len = 0;
  std::string lower = head;
  for (auto& c : lower) c = std::tolower(static_cast<unsigned char>(c));
  if (auto p = lower.find("\r\ncontent-length:"); p != std::string::npos)
    len = std::strtoul(head.c_str() + p + 17, nullptr, 10);
  label.clear();
  if (auto p = lower.find("\r\nx-lastgood-label:"); p != std::string::npos) {
    size_t s = p + 19;
    while (s < head.size() && head[s] == ' ') ++s;
    size_t e = head.find("\r\n", s);
    label = head.substr(s, e == std::string::npos ? std::string::npos : e - s);
  }
  *close = lower.find("\r\nconnection: close") != std::string::npos;
  size_t total = head_end + 4 + len;
  while (buf.size() < total) {
    char tmp[8192];
    ssize_t n = ::read(fd, tmp, sizeof tmp);
    if (n <= 0) return 0;
    buf.append(tmp, n);
  }
  buf.erase(0, total);
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1", path = "/", out;
  int port = 0, connections = 4;
  bool check_reuse = false;
  double seconds = 5, rate = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string f = argv[i], v = argv[i + 1];
    if (f == "--port")
      port = std::stoi(v);
    else if (f == "--host")
      host = v;
    else if (f == "--connections")
      connections = std::stoi(v);
    else if (f == "--seconds")
      seconds = std::stod(v);
    else if (f == "--rate")
      rate = std::stod(v);
    else if (f == "--path")
      path = v;
    else if (f == "--out")
      out = v;
    else if (f == "--check-reuse")
      check_reuse = v == "1";
    else {
      std::fprintf(stderr, "loadprobe: unknown flag %s\n", f.c_str());
      return 2;
    }
  }
  if (port <= 0) {
    std::fprintf(stderr, "loadprobe: --port is required\n");
    return 2;
  }
  const std::string request =
      "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: loadprobe\r\n\r\n";
  const int64_t end_at = NowNs() + static_cast<int64_t>(seconds * 1e9);
  const int64_t gap = rate > 0 ? static_cast<int64_t>(1e9 * connections / rate) : 0;
  std::vector<std::vector<Record>> records(connections);
  std::vector<std::thread> threads;
  for (int c = 0; c < connections; ++c) {
    threads.emplace_back([&, c] {
      int fd = -1;
      std::string buf, label;
      int64_t next = NowNs() + gap * c / std::max(connections, 1);
      while (NowNs() < end_at) {
        if (gap > 0) {
          int64_t wait = next - NowNs();
          if (wait > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(wait));
          next += gap;
        }
        if (fd >= 0 && check_reuse && PeerClosed(fd)) {
          ::close(fd);
          fd = -1;
        }
        int64_t start = NowNs();
        int connect_err = 0;
        if (fd < 0) {
          fd = Connect(host, port, &connect_err);
          buf.clear();
        }
        int status = 0;
        bool close_after = false;
        if (fd >= 0 && ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
                           static_cast<ssize_t>(request.size())) {
          status = ReadResponse(fd, buf, label, &close_after);
        }
        records[c].push_back(
            {start, NowNs(), status,
             status ? label : (connect_err == ECONNREFUSED ? "refused" : "error")});
        if ((status == 0 || close_after) && fd >= 0) {
          ::close(fd);
          fd = -1;
        }
        if (status == 0 && gap == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      if (fd >= 0) ::close(fd);
    });
  }
  for (auto& t : threads) t.join();
  FILE* f = out.empty() ? nullptr : std::fopen(out.c_str(), "w");
  uint64_t total = 0, failed = 0;
  std::map<std::string, uint64_t> by_label;
  for (auto& rs : records) {
    for (auto& r : rs) {
      ++total;
      if (r.status < 200 || r.status >= 300) ++failed;
      ++by_label[r.status == 0 || r.label.empty() ? "-" : r.label];
      if (f)
        std::fprintf(f, "%lld %lld %d %s\n", static_cast<long long>(r.start),
                     static_cast<long long>(r.end), r.status,
                     r.label.empty() ? "-" : r.label.c_str());
    }
  }
  if (f) std::fclose(f);
  std::printf("requests %llu failed %llu", static_cast<unsigned long long>(total),
              static_cast<unsigned long long>(failed));
  for (auto& [l, n] : by_label)
    std::printf(" %s=%llu", l.c_str(), static_cast<unsigned long long>(n));
  std::printf("\n");
  return 0;
}
