#include "process/process_state.h"

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace lastgood {

ProcessState ReadProcessState(int pid) {
  ProcessState state;
  if (pid <= 0) return state;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!in || !std::getline(in, stat)) return state;
  // The command name (field 2) may hold spaces and parentheses: parse after the last ')'.
  size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return state;
  std::istringstream fields(stat.substr(paren + 1));
  std::string field;
  for (int index = 3; index <= 22 && (fields >> field); ++index) {
    if (index == 3) state.zombie = field == "Z" || field == "X";
    if (index == 4) state.ppid = std::atoi(field.c_str());
    if (index == 22) state.start_time = std::strtoull(field.c_str(), nullptr, 10);
  }
  return state;
}

uint64_t ProcessStartTime(int pid) { return ReadProcessState(pid).start_time; }

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "stopped";
}

}  // namespace lastgood
