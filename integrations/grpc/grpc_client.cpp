// Outgoing-RPC tracing for gRPC channels (xray/grpc.hpp): a client interceptor per call.
#include <grpcpp/client_context.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/http_util.hpp"
#include "common/outgoing_call.hpp"
#include "grpc/grpc_common.hpp"
#include "xray/grpc.hpp"

namespace xray::grpc {
namespace {

namespace gx = ::grpc::experimental;
using Hook = gx::InterceptionHookPoints;

// The authority a channel target names: "dns:///h:1" and "dns://server/h:1" → "h:1",
// "ipv4:10.0.0.1:1,10.0.0.2:1" → "10.0.0.1:1", "ipv6:[::1]:1" → "[::1]:1", "unix:..." →
// "localhost" (gRPC's own default authority there), anything else as given.
std::string target_authority(std::string_view target) {
  auto starts = [&](std::string_view prefix) { return target.substr(0, prefix.size()) == prefix; };
  if (starts("unix:") || starts("unix-abstract:")) return "localhost";
  if (starts("dns:")) {
    target.remove_prefix(4);
    if (target.substr(0, 2) == "//") {  // dns://[authority]/host:port
      target.remove_prefix(2);
      std::size_t slash = target.find('/');
      target = slash == std::string_view::npos ? std::string_view() : target.substr(slash + 1);
    }
  } else if (starts("ipv4:") || starts("ipv6:")) {
    target.remove_prefix(5);
    target = target.substr(0, target.find(','));
  }
  return std::string(integrations::trim(target));
}

// Shared by every call of one channel. Thread-safe: immutable after construction.
struct ClientConfig {
  std::string authority;
  ClientOptions options;
};

// One outgoing call's subsegment. Hooks of a callback or streaming call run on gRPC's threads,
// through synchronisation ThreadSanitizer cannot see in an uninstrumented libgrpc: every member is
// guarded by mutex_, the destructor included.
//
// Thread safety: thread-safe.
class ClientInterceptor final : public gx::Interceptor {
 public:
  // Runs on the thread that creates the call: the parent is the context current there.
  ClientInterceptor(std::shared_ptr<const ClientConfig> config, gx::ClientRpcInfo* info)
      : config_(std::move(config)) {
    std::lock_guard<std::mutex> lock(mutex_);
    parent_ = current_context();
    method_ = info->method() != nullptr ? info->method() : "";
    detail::created(this);
  }

  ~ClientInterceptor() override {
    detail::observe_creation(this);
    std::lock_guard<std::mutex> lock(mutex_);
    call_.end();
  }

  void Intercept(gx::InterceptorBatchMethods* methods) override {
    detail::observe_creation(this);
    try {
      std::lock_guard<std::mutex> lock(mutex_);
      if (methods->QueryInterceptionHookPoint(Hook::PRE_SEND_INITIAL_METADATA)) {
        begin(methods->GetSendInitialMetadata());
      }
      if (methods->QueryInterceptionHookPoint(Hook::POST_RECV_STATUS)) {
        if (const ::grpc::Status* status = methods->GetRecvStatus()) {
          detail::record_status(call_, *status, /*remote_cause=*/true);
        }
        call_.end();
      }
    } catch (...) {
      // Tracing never breaks the call (ContextMissingError under kRuntimeError included).
    }
    // Outside the lock: proceeding may complete the call and destroy this interceptor.
    methods->Proceed();
  }

 private:
  void begin(std::multimap<std::string, std::string>* metadata) {
    if (began_) return;
    began_ = true;
    Recorder& recorder =
        config_->options.recorder != nullptr ? *config_->options.recorder : Recorder::global();
    integrations::OutgoingRequest request;
    request.method = "POST";
    request.scheme = "grpc";
    request.authority = config_->authority;
    request.path = method_;
    request.traced = config_->options.traced;
    // With no parent, begin_outgoing_call applies the context-missing strategy (which may throw
    // under kRuntimeError: caught by Intercept, the call goes untraced).
    call_ = integrations::begin_outgoing_call(recorder, request, parent_);
    if (metadata == nullptr) return;
    std::string value = integrations::outgoing_trace_header(call_);
    // Replace any entry already there: a stale header would break the parent link (spec §4.4).
    metadata->erase(std::string(detail::kTraceMetadataKey));
    if (!value.empty()) metadata->emplace(std::string(detail::kTraceMetadataKey), std::move(value));
    if (config_->options.inject_traceparent) {
      std::string traceparent = integrations::outgoing_traceparent(call_);
      if (!traceparent.empty()) {
        const std::string key(TraceParent::kHeaderName);
        metadata->erase(key);
        metadata->emplace(key, std::move(traceparent));
      }
    }
  }

  std::mutex mutex_;
  const std::shared_ptr<const ClientConfig> config_;
  Context parent_;        // guarded by mutex_
  std::string method_;    // guarded by mutex_
  bool began_ = false;    // guarded by mutex_
  SubsegmentScope call_;  // guarded by mutex_
};

// Thread-safe: immutable after construction.
class ClientFactory final : public gx::ClientInterceptorFactoryInterface {
 public:
  explicit ClientFactory(std::shared_ptr<const ClientConfig> config) : config_(std::move(config)) {}

  gx::Interceptor* CreateClientInterceptor(gx::ClientRpcInfo* info) override {
    if (info == nullptr) return nullptr;
    try {
      return new ClientInterceptor(config_, info);
    } catch (...) {
      return nullptr;  // out of memory: this call is not traced
    }
  }

 private:
  const std::shared_ptr<const ClientConfig> config_;
};

}  // namespace

std::unique_ptr<gx::ClientInterceptorFactoryInterface> client_interceptor_factory(
    std::string_view target, ClientOptions options) {
  auto config = std::make_shared<ClientConfig>();
  config->authority = target_authority(target);
  config->options = std::move(options);
  return std::make_unique<ClientFactory>(std::move(config));
}

std::vector<std::unique_ptr<gx::ClientInterceptorFactoryInterface>> client_interceptors(
    std::string_view target, ClientOptions options) {
  std::vector<std::unique_ptr<gx::ClientInterceptorFactoryInterface>> creators;
  creators.push_back(client_interceptor_factory(target, std::move(options)));
  return creators;
}

}  // namespace xray::grpc
