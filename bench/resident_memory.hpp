// Shared by the benchmark programs: the process's resident memory, for growth under load.
#pragma once

#include <fstream>
#include <string>

namespace xray::bench {

// VmRSS from /proc/self/status, in KiB (0 if unreadable).
inline long rss_kb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

}  // namespace xray::bench
