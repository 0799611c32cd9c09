// Test fixtures: a uniquely named temporary file under /tmp (removed on destruction), a unique path
// that does not exist, and a scoped environment variable of this thread (restored on destruction).
//
//   xray::testing::TempFile cgroup("12:memory:/docker/" + id + "\n");
//   options.cgroup_path = cgroup.path();
//   xray::testing::ScopedEnv env("IMDS_ENDPOINT", "127.0.0.1:8080");  // nullptr unsets
//
// Thread safety: TempFile is thread-compatible. ScopedEnv sets the variable for the calling thread
// only (the thread plugins are detected on in these tests), never in the process environment.
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>

#include "base/environment.hpp"

namespace xray::testing {

class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    std::string pattern = "/tmp/xray-test-XXXXXX";
    int fd = ::mkstemp(pattern.data());
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "mkstemp");
    std::size_t written = 0;
    while (written < content.size()) {
      ssize_t n = ::write(fd, content.data() + written, content.size() - written);
      if (n <= 0) {
        int error = errno;
        ::close(fd);
        ::unlink(pattern.c_str());
        throw std::system_error(error, std::generic_category(), "write");
      }
      written += static_cast<std::size_t>(n);
    }
    ::close(fd);
    path_ = pattern;
  }
  ~TempFile() { ::unlink(path_.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
};

// A unique path under /tmp that does not exist (the file is created and removed at once).
inline std::string missing_path() {
  std::string path;
  {
    TempFile file("");
    path = file.path();
  }
  return path + "-missing";
}

// One variable of the calling thread's environment (base/environment.hpp), which the SDK's
// plugins read: the process environment is never changed.
using ScopedEnv = xray::detail::ThreadEnvironment;

}  // namespace xray::testing
