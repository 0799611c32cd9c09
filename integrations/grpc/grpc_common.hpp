// Internal to the gRPC integration: what the server and client interceptors share (the status
// record, the registry behind xray::grpc::server_context, the rate-limited log line).
//
// Thread safety: the functions are thread-safe; EntityScope arguments as EntityScope.
#pragma once

#include <grpcpp/support/status.h>

#include <string_view>

#include "xray/context.hpp"
#include "xray/entity_scope.hpp"

#if defined(__SANITIZE_THREAD__)
#define XRAY_GRPC_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define XRAY_GRPC_TSAN 1
#endif
#endif
#if defined(XRAY_GRPC_TSAN)
#include <sanitizer/tsan_interface.h>
#endif

namespace xray::grpc::detail {

// gRPC creates an interceptor before it runs any of its hooks, and destroys it after the last one,
// on whatever threads it likes; that order goes through gRPC's own synchronisation, which
// ThreadSanitizer cannot see in a libgrpc that was not built with it. The constructor publishes
// itself (`created`); each hook and the destructor start with `observe_creation`: together they
// tell TSan exactly that fact, nothing more (hooks of one call may still run concurrently, hence
// the interceptors' own mutex). No-ops without TSan.
inline void created(void* interceptor) noexcept {
#if defined(XRAY_GRPC_TSAN)
  __tsan_release(interceptor);
#else
  (void)interceptor;
#endif
}
inline void observe_creation(void* interceptor) noexcept {
#if defined(XRAY_GRPC_TSAN)
  __tsan_acquire(interceptor);
#else
  (void)interceptor;
#endif
}

// The metadata key of the trace header (gRPC keys are lowercase).
inline constexpr std::string_view kTraceMetadataKey = "x-amzn-trace-id";

// Records `status` on `entity`: http.response.status through http_status (and so the flags),
// metadata.grpc {status, status_code, message}, and for a non-OK status a cause (type = the code's
// name, message = the status message). On a server, a client-class status (4xx) is recorded as a
// remote cause, which sets no fault by itself; on a client every status is the downstream's answer
// (`remote_cause` true).
void record_status(EntityScope& entity, const ::grpc::Status& status, bool remote_cause) noexcept;

// The registry of traced server calls (xray::grpc::server_context).
void register_call(const void* server_context, const Context& context) noexcept;
void unregister_call(const void* server_context) noexcept;

// One gpr_log line (error level, "aws-xray: " prefix), at most one a minute per process.
void log_limited(std::string_view message) noexcept;

}  // namespace xray::grpc::detail
