#include "xray_local.hpp"

#include <cerrno>
#include <cstring>
#include <chrono>
#include <fstream>
#include <ostream>
#include <sstream>

#include "console_api.hpp"
#include "forwarder.hpp"
#include "http_server.hpp"
#include "ingest.hpp"
#include "sampling_proxy.hpp"
#include "terminal.hpp"
#include "trace_store.hpp"
#include "udp_receiver.hpp"

namespace xray::local {
namespace {

constexpr int kWarningsPerSecond = 10;
constexpr int kSharedPortAttempts = 20;

HttpReply proxy_reply(SamplingProxy& proxy, const HttpRequest& request) {
  if (request.method != "POST") {
    return HttpReply{405, "application/json", R"({"error":"the sampling proxy takes POST"})"};
  }
  auto body = proxy.handle(request.target, request.body, epoch_seconds());
  if (!body) return HttpReply{404, "application/json", R"({"error":"not a sampling path"})"};
  return HttpReply{200, "application/json", std::move(*body)};
}

}  // namespace

double epoch_seconds() noexcept {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

double steady_seconds() noexcept {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::unique_ptr<XrayLocal> XrayLocal::start(const Options& options, std::ostream& out,
                                            std::ostream& log, StartError* error) {
  auto fail = [error](int code, std::string message) -> std::unique_ptr<XrayLocal> {
    if (error != nullptr) *error = StartError{code, std::move(message)};
    return nullptr;
  };
  std::unique_ptr<XrayLocal> tool(new XrayLocal());
  tool->options_ = options;
  tool->out_ = &out;
  tool->log_ = &log;
  tool->last_activity_ = steady_seconds();

  nlohmann::json rules = SamplingProxy::default_rules();
  if (!options.sampling_rules.empty()) {
    std::ifstream file(options.sampling_rules);
    if (!file) return fail(2, "cannot read " + options.sampling_rules + ": " + std::strerror(errno));
    std::stringstream text;
    text << file.rdbuf();
    std::string reason;
    auto loaded = SamplingProxy::load_rules(text.str(), &reason);
    if (!loaded) return fail(2, options.sampling_rules + ": " + reason);
    rules = std::move(*loaded);
  }
  tool->sampling_ = std::make_unique<SamplingProxy>(std::move(rules));
  tool->store_ = std::make_unique<TraceStore>(
      StoreLimits{options.max_traces, options.max_mib * (std::size_t{1} << 20)});

  std::string reason;
  if (options.forward) {
    tool->forwarder_ = Forwarder::connect(options.forward->host, options.forward->port, &reason);
    if (!tool->forwarder_) return fail(1, reason);
  }

  // UDP, then the sampling proxy on TCP. With one host:0 both take the same free port: retry when
  // the port UDP got is taken for TCP.
  tool->server_ = std::make_unique<HttpServer>();
  SamplingProxy* proxy = tool->sampling_.get();
  auto proxy_handler = [proxy](const HttpRequest& request) { return proxy_reply(*proxy, request); };
  const bool pick_shared = options.shared_port && options.address.udp.port == 0;
  for (int attempt = 0;; ++attempt) {
    tool->receiver_ = UdpReceiver::bind(options.address.udp.host, options.address.udp.port, &reason);
    if (!tool->receiver_) return fail(1, reason);
    const std::uint16_t tcp_port = options.shared_port ? tool->receiver_->port() : options.address.tcp.port;
    auto bound = tool->server_->listen(options.address.tcp.host, tcp_port, proxy_handler, &reason);
    if (bound) {
      tool->tcp_port_ = *bound;
      break;
    }
    if (!pick_shared || attempt + 1 >= kSharedPortAttempts) return fail(1, reason);
  }

  XrayLocal* self = tool.get();
  tool->ingest_ = std::make_unique<Ingest>(
      *tool->store_,
      [self](const nlohmann::json& document, std::string_view body) {
        if (self->options_.print == Options::Print::kNothing) return;
        std::string text = document_tree(document);
        // As it arrived: what the SDK put on the wire (one line: the SDKs send compact JSON).
        if (self->options_.print == Options::Print::kTreeAndJson) text.append(body).append("\n");
        *self->out_ << text << std::flush;
      },
      [self](DatagramProblem problem, std::size_t bytes) {
        if (self->options_.print == Options::Print::kNothing) return;
        const long second = static_cast<long>(steady_seconds());
        if (second != self->warning_second_) {
          if (self->warnings_suppressed_ > 0) {
            *self->log_ << "xray-local: warning: " << self->warnings_suppressed_
                        << " more bad datagrams not shown\n";
          }
          self->warning_second_ = second;
          self->warnings_this_second_ = 0;
          self->warnings_suppressed_ = 0;
        }
        if (++self->warnings_this_second_ > kWarningsPerSecond) {
          ++self->warnings_suppressed_;
          return;
        }
        *self->log_ << "xray-local: warning: bad datagram (" << to_string(problem) << ", " << bytes
                    << " bytes)" << std::endl;
      });

  if (options.http) {
    ConsoleSources sources;
    sources.store = tool->store_.get();
    sources.ingest = tool->ingest_.get();
    sources.sampling = tool->sampling_.get();
    sources.more = [self]() {
      nlohmann::json more = {
          {"listening",
           {{"udp", to_string(Endpoint{self->options_.address.udp.host, self->udp_port()})},
            {"tcp", to_string(Endpoint{self->options_.address.tcp.host, self->tcp_port_})},
            {"receive_buffer", self->receiver_->receive_buffer()},
            {"dropped_by_kernel", self->receiver_->kernel_drops()}}}};
      if (self->forwarder_) {
        more["forward"] = {{"target", self->forwarder_->target()},
                           {"sent", self->forwarder_->sent()},
                           {"errors", self->forwarder_->errors()}};
      }
      return more;
    };
    auto api = std::make_shared<ConsoleApi>(std::move(sources));
    auto bound = tool->server_->listen(
        options.http->host, options.http->port,
        [api](const HttpRequest& request) {
          if (request.method != "GET" && request.method != "HEAD") {
            return HttpReply{405, "application/json", R"({"error":"the console takes GET"})"};
          }
          return api->get(request.target, epoch_seconds());
        },
        &reason);
    if (!bound) return fail(1, reason);
    tool->http_port_ = *bound;
  }

  tool->server_->start();
  tool->receiving_ = std::thread([self] {
    self->receiver_->run([self](std::string_view bytes, bool truncated) {
      if (self->forwarder_) self->forwarder_->send(bytes);
      self->ingest_->on_datagram(bytes, truncated, epoch_seconds());
      self->datagrams_.fetch_add(1);
      self->last_activity_.store(steady_seconds());
    });
  });
  return tool;
}

XrayLocal::~XrayLocal() { stop(); }

void XrayLocal::stop() {
  if (receiver_) receiver_->stop();
  if (receiving_.joinable()) receiving_.join();
  if (server_) server_->stop();
}

std::uint16_t XrayLocal::udp_port() const noexcept { return receiver_ ? receiver_->port() : 0; }

std::string XrayLocal::console_url() const {
  if (!http_port_) return "";
  std::string host = options_.http->host;
  if (host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  return "http://" + to_string(Endpoint{host, *http_port_}) + "/";
}

}  // namespace xray::local
