#include "support/dynalite.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>

extern char** environ;

namespace xray::testing {
namespace {

const std::string kDirectory = XRAY_TEST_DYNALITE_DIR;

bool exists(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0;
}

std::optional<std::string> find_node() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const std::string candidate = dir + "/node";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> Dynalite::missing() {
  if (!find_node()) return std::string("dynalite needs node (Debian: apt-get install nodejs npm)");
  if (!exists(kDirectory + "/node_modules/dynalite/package.json")) {
    return "dynalite is not installed: npm ci --prefix " + kDirectory;
  }
  return std::nullopt;
}

Dynalite::Dynalite() {
  auto node = find_node();
  if (!node) return;
  int in[2];
  int out[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return;
  if (::pipe2(out, O_CLOEXEC) != 0) {
    ::close(in[0]);
    ::close(in[1]);
    return;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  const std::string script = kDirectory + "/server.js";
  const std::string secret = kSecretKey;
  std::vector<char*> argv{const_cast<char*>(node->c_str()), const_cast<char*>(script.c_str()),
                          const_cast<char*>("--secret"), const_cast<char*>(secret.c_str()),
                          nullptr};
  const int spawned = posix_spawn(&pid_, node->c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(in[0]);
  ::close(out[1]);
  if (spawned != 0) {
    pid_ = -1;
    ::close(in[1]);
    ::close(out[0]);
    return;
  }
  // Our end of its stdin: when this process dies, the server sees end of input and exits.
  stdin_fd_ = in[1];
  reader_ = std::thread([this, fd = out[0]] { read_output(fd); });
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait_for(lock, std::chrono::seconds(10), [this] { return started_; });
}

Dynalite::~Dynalite() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  if (stdin_fd_ >= 0) ::close(stdin_fd_);
  if (reader_.joinable()) reader_.join();  // the pipe reaches end of file once the server is gone
}

void Dynalite::read_output(int fd) {
  std::string buffer;
  char chunk[4096];
  while (true) {
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n <= 0) break;
    buffer.append(chunk, static_cast<std::size_t>(n));
    std::size_t newline;
    while ((newline = buffer.find('\n')) != std::string::npos) {
      std::istringstream line(buffer.substr(0, newline));
      buffer.erase(0, newline + 1);
      std::string kind;
      line >> kind;
      std::lock_guard<std::mutex> lock(mutex_);
      if (kind == "listening") {
        line >> port_;
        started_ = true;
      } else if (kind == "request") {
        DynaliteRequest request;
        std::string sigv4;
        std::string trace;
        line >> request.target >> sigv4 >> trace;
        request.sigv4 = sigv4.substr(sigv4.find('=') + 1);
        request.trace = trace.substr(trace.find('=') + 1);
        requests_.push_back(std::move(request));
        taken_.push_back(false);
      }
      changed_.notify_all();
    }
  }
  ::close(fd);
  std::lock_guard<std::mutex> lock(mutex_);
  started_ = true;  // also when it died before listening: port() stays 0
  changed_.notify_all();
}

std::optional<DynaliteRequest> Dynalite::wait_for_request(const std::string& target,
                                                          std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  std::optional<DynaliteRequest> found;
  changed_.wait_for(lock, timeout, [&] {
    for (std::size_t i = 0; i < requests_.size(); ++i) {
      if (!taken_[i] && requests_[i].target == target) {
        taken_[i] = true;
        found = requests_[i];
        return true;
      }
    }
    return false;
  });
  return found;
}

}  // namespace xray::testing
