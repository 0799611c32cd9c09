// Internal: one way to read the environment, injectable. The recorder reads the SDK's variables
// (spec §5.2) through the GetEnv given to configure (tests pass a map); the plugins, which run on
// the recorder's detection thread, read the thread's environment, which the recorder sets to the
// same GetEnv for the detection; Lambda invocations read _X_AMZN_TRACE_ID through the recorder's.
// No test has to edit the process environment.
//
//   ThreadEnvironment scope("IMDS_ENDPOINT", "127.0.0.1:8080");   // this thread only; nullptr
//   unsets const char* endpoint = thread_getenv("IMDS_ENDPOINT");
//
// Thread safety: thread_getenv and ThreadEnvironment act on the calling thread only; a GetEnv
// must be safe to call from the threads it is given to.
#pragma once

#include <cstdlib>
#include <functional>
#include <optional>
#include <string>

namespace xray::detail {

// getenv's contract: the value, or null when unset. Never called with a null name.
using GetEnv = std::function<const char*(const char*)>;

// `name` read through `getenv`, or from the process environment when `getenv` is empty.
inline const char* read_env(const GetEnv& getenv, const char* name) noexcept {
  try {
    return getenv ? getenv(name) : std::getenv(name);
  } catch (...) {
    return nullptr;  // a throwing GetEnv counts as unset
  }
}

// The environment the calling thread reads: its innermost ThreadEnvironment, else the process's.
const char* thread_getenv(const char* name) noexcept;

// Sets the calling thread's environment until the scope ends, then restores the previous one.
// Scopes nest; they must end in reverse order, on the thread that made them.
class ThreadEnvironment {
 public:
  // The whole environment: `getenv` (empty: the process environment).
  explicit ThreadEnvironment(GetEnv getenv);
  // One variable (`value` null: unset) over the thread's current environment.
  ThreadEnvironment(const char* name, const char* value);
  ~ThreadEnvironment();
  ThreadEnvironment(const ThreadEnvironment&) = delete;
  ThreadEnvironment& operator=(const ThreadEnvironment&) = delete;

 private:
  GetEnv previous_;
};

}  // namespace xray::detail
