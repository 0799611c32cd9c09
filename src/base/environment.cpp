#include "base/environment.hpp"

#include <utility>

namespace xray::detail {
namespace {

GetEnv& this_thread_getenv() noexcept {
  thread_local GetEnv getenv;
  return getenv;
}

}  // namespace

const char* thread_getenv(const char* name) noexcept {
  return read_env(this_thread_getenv(), name);
}

ThreadEnvironment::ThreadEnvironment(GetEnv getenv)
    : previous_(std::exchange(this_thread_getenv(), std::move(getenv))) {}

ThreadEnvironment::ThreadEnvironment(const char* name, const char* value)
    : previous_(this_thread_getenv()) {
  std::optional<std::string> kept;
  if (value != nullptr) kept = value;
  this_thread_getenv() = [name = std::string(name), kept = std::move(kept),
                          outer = previous_](const char* wanted) -> const char* {
    if (name == wanted) return kept ? kept->c_str() : nullptr;
    return read_env(outer, wanted);
  };
}

ThreadEnvironment::~ThreadEnvironment() { this_thread_getenv() = std::move(previous_); }

}  // namespace xray::detail
