// Incoming-RPC tracing for gRPC servers (xray/grpc.hpp): a server interceptor per call.
#include <grpcpp/server_context.h>

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "common/http_util.hpp"
#include "common/incoming_request.hpp"
#include "grpc/grpc_common.hpp"
#include "xray/grpc.hpp"

namespace xray::grpc {
namespace {

namespace gx = ::grpc::experimental;
using Hook = gx::InterceptionHookPoints;

std::string_view view(::grpc::string_ref text) noexcept { return {text.data(), text.size()}; }

// The first value of `key` in the received metadata (spec §4.1: of several lines the first).
std::string_view first_value(const std::multimap<::grpc::string_ref, ::grpc::string_ref>& metadata,
                             std::string_view key) noexcept {
  auto found = metadata.find(::grpc::string_ref(key.data(), key.size()));
  return found == metadata.end() ? std::string_view() : view(found->second);
}

// The IP of a gRPC peer string: "ipv4:10.0.0.1:5000" → "10.0.0.1", "ipv6:[::1]:5000" → "::1";
// other kinds (unix:, ...) → empty.
std::string_view peer_ip(std::string_view peer) noexcept {
  if (peer.substr(0, 5) == "ipv4:") {
    peer.remove_prefix(5);
    return peer.substr(0, peer.rfind(':'));
  }
  if (peer.substr(0, 5) == "ipv6:") {
    peer.remove_prefix(5);
    if (!peer.empty() && peer.front() == '[') {
      std::size_t close = peer.find(']');
      if (close != std::string_view::npos) return peer.substr(1, close - 1);
    }
    return peer;
  }
  return {};
}

// One incoming call's segment. gRPC runs the hooks of one call one batch at a time but possibly on
// different threads, and through synchronisation that ThreadSanitizer cannot see in an
// uninstrumented libgrpc: every member is guarded by mutex_, the destructor included.
//
// Thread safety: thread-safe.
class ServerInterceptor final : public gx::Interceptor {
 public:
  ServerInterceptor(std::shared_ptr<const ServerOptions> options, gx::ServerRpcInfo* info)
      : options_(std::move(options)) {
    std::lock_guard<std::mutex> lock(mutex_);
    context_ = info->server_context();
    method_ = info->method() != nullptr ? info->method() : "";
    callback_ = dynamic_cast<::grpc::CallbackServerContext*>(context_) != nullptr;
    detail::created(this);
  }

  ~ServerInterceptor() override {
    detail::observe_creation(this);
    std::lock_guard<std::mutex> lock(mutex_);
    finish(nullptr);
  }

  void Intercept(gx::InterceptorBatchMethods* methods) override {
    detail::observe_creation(this);
    try {
      std::lock_guard<std::mutex> lock(mutex_);
      if (methods->QueryInterceptionHookPoint(Hook::POST_RECV_INITIAL_METADATA)) {
        begin(methods->GetRecvInitialMetadata());
      }
      if (methods->QueryInterceptionHookPoint(Hook::PRE_SEND_INITIAL_METADATA)) {
        add_response_header(methods->GetSendInitialMetadata());
      }
      if (methods->QueryInterceptionHookPoint(Hook::PRE_SEND_STATUS)) {
        ::grpc::Status status = methods->GetSendStatus();
        finish(&status);
      }
      if (methods->QueryInterceptionHookPoint(Hook::POST_RECV_CLOSE) && !finished_ &&
          context_ != nullptr && context_->IsCancelled()) {
        // The client went away (or the deadline passed) before the handler sent a status.
        ::grpc::Status cancelled(::grpc::StatusCode::CANCELLED,
                                 "cancelled before the status was sent");
        finish(&cancelled);
      }
    } catch (...) {
      // Tracing never breaks the call.
    }
    // Outside the lock: proceeding may complete the call and destroy this interceptor.
    methods->Proceed();
  }

 private:
  void begin(std::multimap<::grpc::string_ref, ::grpc::string_ref>* metadata) {
    if (segment_.active() || finished_) return;
    static const std::multimap<::grpc::string_ref, ::grpc::string_ref> kNone;
    const auto& received = metadata != nullptr ? *metadata : kNone;
    Recorder& recorder = options_->recorder != nullptr ? *options_->recorder : Recorder::global();

    std::string authority;
    std::string peer;
    if (context_ != nullptr) {
      ::grpc::string_ref value = context_->ExperimentalGetAuthority();
      authority.assign(value.data(), value.size());
      peer = context_->peer();
    }
    std::string_view header = first_value(received, detail::kTraceMetadataKey);
    integrations::IncomingRequest incoming;
    incoming.method = "POST";  // gRPC runs on HTTP/2 POST
    incoming.scheme = "grpc";
    incoming.authority = authority;
    incoming.path = method_;
    incoming.user_agent = first_value(received, "user-agent");
    std::string_view forwarded = first_value(received, "x-forwarded-for");
    incoming.forwarded_for = integrations::trim(forwarded.substr(0, forwarded.find(',')));
    incoming.peer_address = peer_ip(peer);
    incoming.accept_traceparent = options_->accept_traceparent;
    // W3C Trace Context: a call with several traceparent entries has none.
    if (options_->accept_traceparent && received.count("traceparent") == 1) {
      incoming.traceparent = first_value(received, "traceparent");
    }
    integrations::SegmentNaming naming{options_->name, options_->host_pattern,
                                       options_->fallback_name};
    segment_ = integrations::begin_incoming_request(
        recorder, naming, options_->trust_incoming_header, header, incoming);
    if (options_->trust_incoming_header && !header.empty() &&
        !TraceHeader::parse(header).has_valid_root()) {
      detail::log_limited(
          "ignoring a malformed x-amzn-trace-id metadata entry (no valid Root) on " + method_ +
          "; the call starts a new trace");
    }
    if (!segment_.active()) return;
    Context context = segment_.context();
    detail::register_call(context_, context);
    if (options_->attach_to_handler_thread && !callback_) {
      attach_.emplace(context);
      attached_on_ = std::this_thread::get_id();
    }
  }

  void add_response_header(std::multimap<std::string, std::string>* metadata) {
    if (!options_->add_response_header || metadata == nullptr || !segment_.active()) return;
    std::string value = integrations::response_trace_header(segment_);
    if (value.empty()) return;
    metadata->erase(std::string(detail::kTraceMetadataKey));
    metadata->emplace(std::string(detail::kTraceMetadataKey), std::move(value));
  }

  // Records `status` (when given) and ends the segment; idempotent. Called with mutex_ held.
  void finish(const ::grpc::Status* status) noexcept {
    if (finished_) return;
    finished_ = true;
    // A scope that ends on another thread leaves both threads' stacks alone (ContextScope).
    if (attach_ && attached_on_ == std::this_thread::get_id()) attach_.reset();
    if (segment_.active()) {
      if (status != nullptr) detail::record_status(segment_, *status, /*remote_cause=*/false);
      detail::unregister_call(context_);
      segment_.end();
    }
  }

  std::mutex mutex_;
  const std::shared_ptr<const ServerOptions> options_;
  ::grpc::ServerContextBase* context_ = nullptr;  // guarded by mutex_
  std::string method_;                            // guarded by mutex_
  bool callback_ = false;                         // guarded by mutex_
  bool finished_ = false;                         // guarded by mutex_
  SegmentScope segment_;                          // guarded by mutex_
  std::optional<ContextScope> attach_;            // guarded by mutex_
  std::thread::id attached_on_;                   // guarded by mutex_
};

// Thread-safe: immutable after construction.
class ServerFactory final : public gx::ServerInterceptorFactoryInterface {
 public:
  explicit ServerFactory(ServerOptions options)
      : options_(std::make_shared<const ServerOptions>(std::move(options))) {}

  gx::Interceptor* CreateServerInterceptor(gx::ServerRpcInfo* info) override {
    if (info == nullptr) return nullptr;
    try {
      return new ServerInterceptor(options_, info);
    } catch (...) {
      return nullptr;  // out of memory: this call is not traced
    }
  }

 private:
  const std::shared_ptr<const ServerOptions> options_;
};

}  // namespace

std::unique_ptr<gx::ServerInterceptorFactoryInterface> server_interceptor_factory(
    ServerOptions options) {
  return std::make_unique<ServerFactory>(std::move(options));
}

std::vector<std::unique_ptr<gx::ServerInterceptorFactoryInterface>> server_interceptors(
    ServerOptions options) {
  std::vector<std::unique_ptr<gx::ServerInterceptorFactoryInterface>> creators;
  creators.push_back(server_interceptor_factory(std::move(options)));
  return creators;
}

std::vector<std::unique_ptr<gx::ServerInterceptorFactoryInterface>> server_interceptors(
    std::string_view name) {
  ServerOptions options;
  options.name = std::string(name);
  return server_interceptors(std::move(options));
}

}  // namespace xray::grpc
