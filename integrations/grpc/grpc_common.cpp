// The status mapping, the call registry and the log line shared by the gRPC interceptors.
#include "grpc/grpc_common.hpp"

#include <grpc/support/log.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include "xray/grpc.hpp"

namespace xray::grpc {

int http_status(::grpc::StatusCode code) noexcept {
  switch (code) {
    case ::grpc::StatusCode::OK:
      return 200;
    case ::grpc::StatusCode::INVALID_ARGUMENT:
    case ::grpc::StatusCode::FAILED_PRECONDITION:
    case ::grpc::StatusCode::OUT_OF_RANGE:
      return 400;
    case ::grpc::StatusCode::UNAUTHENTICATED:
      return 401;
    case ::grpc::StatusCode::PERMISSION_DENIED:
      return 403;
    case ::grpc::StatusCode::NOT_FOUND:
      return 404;
    case ::grpc::StatusCode::ALREADY_EXISTS:
    case ::grpc::StatusCode::ABORTED:
      return 409;
    case ::grpc::StatusCode::RESOURCE_EXHAUSTED:
      return 429;
    case ::grpc::StatusCode::CANCELLED:
      return 499;
    case ::grpc::StatusCode::UNIMPLEMENTED:
      return 501;
    case ::grpc::StatusCode::UNAVAILABLE:
      return 503;
    case ::grpc::StatusCode::DEADLINE_EXCEEDED:
      return 504;
    default:  // UNKNOWN, INTERNAL, DATA_LOSS, and codes outside the enumeration
      return 500;
  }
}

std::string_view status_code_name(::grpc::StatusCode code) noexcept {
  switch (code) {
    case ::grpc::StatusCode::OK:
      return "OK";
    case ::grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case ::grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case ::grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case ::grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case ::grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case ::grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case ::grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case ::grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case ::grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case ::grpc::StatusCode::ABORTED:
      return "ABORTED";
    case ::grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case ::grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case ::grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case ::grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case ::grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case ::grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "UNKNOWN";
  }
}

namespace {

// Thread-safe: one mutex over the map of live traced calls.
struct CallRegistry {
  std::mutex mutex;
  std::unordered_map<const void*, Context> calls;  // guarded by mutex
};

CallRegistry& registry() noexcept {
  static auto* instance = new CallRegistry();  // never destroyed: calls may end during exit
  return *instance;
}

}  // namespace

Context server_context(const ::grpc::ServerContextBase& context) noexcept {
  CallRegistry& calls = registry();
  std::lock_guard<std::mutex> lock(calls.mutex);
  auto found = calls.calls.find(&context);
  return found == calls.calls.end() ? Context() : found->second;
}

namespace detail {

void record_status(EntityScope& entity, const ::grpc::Status& status, bool remote_cause) noexcept {
  if (!entity.sampled()) return;
  const ::grpc::StatusCode code = status.error_code();
  const int http = http_status(code);
  const std::string_view name = status_code_name(code);
  try {
    nlohmann::json grpc_status = {{"status", name}, {"status_code", static_cast<int>(code)}};
    if (!status.error_message().empty()) grpc_status["message"] = status.error_message();
    entity.put_metadata("status", std::move(grpc_status), "grpc");
  } catch (...) {
    // Out of memory: the status is still recorded below.
  }
  entity.set_http_status(http);
  if (code != ::grpc::StatusCode::OK) {
    entity.add_exception(name, status.error_message(), remote_cause || http < 500);
  }
}

void register_call(const void* server_context, const Context& context) noexcept {
  if (server_context == nullptr || context.empty()) return;
  try {
    CallRegistry& calls = registry();
    std::lock_guard<std::mutex> lock(calls.mutex);
    calls.calls[server_context] = context;
  } catch (...) {
    // Out of memory: server_context() answers empty for this call.
  }
}

void unregister_call(const void* server_context) noexcept {
  if (server_context == nullptr) return;
  CallRegistry& calls = registry();
  std::lock_guard<std::mutex> lock(calls.mutex);
  calls.calls.erase(server_context);
}

void log_limited(std::string_view message) noexcept {
  using Clock = std::chrono::steady_clock;
  static std::atomic<std::int64_t> next_allowed{0};
  const std::int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(Clock::now().time_since_epoch()).count();
  std::int64_t allowed = next_allowed.load(std::memory_order_relaxed);
  if (now < allowed) return;
  if (!next_allowed.compare_exchange_strong(allowed, now + 60, std::memory_order_relaxed)) return;
  gpr_log(GPR_ERROR, "aws-xray: %.*s", static_cast<int>(message.size()), message.data());
}

}  // namespace detail
}  // namespace xray::grpc
