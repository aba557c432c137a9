#include "targets/local/orphans.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include "process/process_state.h"

namespace lastgood {

LaunchRecords::LaunchRecords(std::string dir) : dir_(std::move(dir)) {
  if (dir_.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
}

void LaunchRecords::Put(const std::string& id, int pid, uint64_t start_time) const {
  if (dir_.empty()) return;
  std::string tmp = dir_ + "/." + id + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << pid << " " << start_time << "\n";
    if (!out) return;
  }
  std::rename(tmp.c_str(), (dir_ + "/" + id).c_str());
}

void LaunchRecords::Remove(const std::string& id) const {
  if (!dir_.empty()) unlink((dir_ + "/" + id).c_str());
}

std::vector<LaunchRecords::Entry> LaunchRecords::All() const {
  std::vector<Entry> all;
  if (dir_.empty()) return all;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir_, ec)) {
    std::string id = e.path().filename().string();
    if (id.empty() || id[0] == '.') continue;
    std::ifstream in(e.path());
    Entry entry{id, 0, 0};
    if (in >> entry.pid >> entry.startTime && entry.pid >= 0) all.push_back(entry);
  }
  return all;
}

namespace {

bool CarriesMarker(int pid, const std::string& id) {
  std::ifstream env("/proc/" + std::to_string(pid) + "/environ", std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(env)), std::istreambuf_iterator<char>());
  const std::string marker = "LASTGOOD_INSTANCE=" + id;
  for (size_t at = 0; at < all.size();) {
    size_t end = all.find('\0', at);
    if (end == std::string::npos) end = all.size();
    if (all.compare(at, end - at, marker) == 0) return true;
    at = end + 1;
  }
  return false;
}

}  // namespace

bool IsRecordedInstance(const LaunchRecords::Entry& entry) {
  ProcessState state = ReadProcessState(entry.pid);
  if (state.start_time == 0 || state.start_time != entry.startTime || state.zombie) return false;
  return CarriesMarker(entry.pid, entry.id);
}

std::vector<int> FindPendingInstance(const std::string& id) {
  std::vector<int> found;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
    int pid = std::atoi(e.path().filename().c_str());
    if (pid <= 0 || pid == getpid() || getsid(pid) != pid) continue;
    if (!ReadProcessState(pid).zombie && CarriesMarker(pid, id)) found.push_back(pid);
  }
  return found;
}

void StopProcessGroup(int pid, int grace_ms) {
  if (kill(-pid, SIGTERM) != 0) kill(pid, SIGTERM);
  for (int waited = 0; waited < grace_ms; waited += 10) {
    if (kill(pid, 0) != 0 || ReadProcessState(pid).zombie) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (kill(-pid, SIGKILL) != 0) kill(pid, SIGKILL);
}

}  // namespace lastgood
