// A small traced program for the demo: it handles a few simulated requests the way a service
// would, with subsegments on worker threads and one failing request, then prints what the SDK sent.
//
// Run it next to examples/local_daemon (scripts/demo.sh does both):
//   AWS_XRAY_DAEMON_ADDRESS=127.0.0.1:2000 ./demo_service
#include <xray/xray.hpp>

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

void pause_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

// One incoming request: a segment with a database call and a fan-out to two worker threads.
void handle_order(xray::Recorder& recorder, int order_id, const std::string& incoming_header,
                  const std::string& path) {
  xray::SamplingRequest request;
  request.host = "orders.example.com";
  request.method = "GET";
  request.url_path = path;
  std::printf("request %d: GET %s%s\n", order_id, path.c_str(),
              incoming_header.empty() ? "" : " (the upstream header decided: Sampled=1)");
  auto segment = recorder.begin_segment("orders", xray::TraceHeader::parse(incoming_header), request);
  if (!segment.sampled()) return;  // nothing to record: the sampler said no
  segment.set_http_request({"GET", "https://orders.example.com/orders/" + std::to_string(order_id),
                            "demo-client/1.0", "203.0.113.7"});
  segment.put_annotation("order_id", order_id);
  segment.put_annotation("tier", order_id % 2 == 0 ? "gold" : "silver");
  segment.set_user("user-" + std::to_string(100 + order_id));
  {
    auto query = recorder.begin_subsegment("DynamoDB");
    query.set_namespace("aws");
    query.set_aws("operation", "GetItem");
    query.set_aws("table_name", "orders");
    pause_ms(3);
    query.set_http_status(200);
  }
  xray::Context context = xray::current_context();
  std::vector<std::thread> workers;
  for (const char* task : {"price", "inventory"}) {
    workers.emplace_back([context, task, order_id] {
      xray::ContextScope attach(context);
      auto work = xray::Recorder::global().begin_subsegment(task);
      pause_ms(2 + order_id % 3);
      if (order_id == 3 && std::string(task) == "inventory") {
        try {
          throw std::out_of_range("sku A-17 is out of stock");
        } catch (const std::exception& e) {
          work.add_exception(e);
        }
      }
    });
  }
  for (auto& worker : workers) worker.join();
  segment.set_http_status(order_id == 3 ? 500 : 200);
}

}  // namespace

int main() {
  xray::Config config;
  config.service_name = "orders";
  config.service_version = "1.4.2";
  // Default sampling: centralized rules from the daemon (local_daemon --sampling-rules plays its
  // proxy), the built-in local rule until they arrive. The debug log says who decided.
  config.log_level = xray::LogLevel::kDebug;
  config.log_sink = [](xray::LogLevel, std::string_view line) {
    if (line.rfind("sampling: \"", 0) == 0) std::printf("  %.*s\n", static_cast<int>(line.size()), line.data());
  };
  xray::Recorder& recorder = xray::Recorder::global();
  recorder.configure(config);

  const char* upstream = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
  handle_order(recorder, 1, upstream, "/orders/1");
  handle_order(recorder, 2, "", "/orders/2");  // first decision: starts fetching the rules
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the rules arrive meanwhile
  handle_order(recorder, 3, "", "/orders/3");
  handle_order(recorder, 4, "", "/orders/4");
  handle_order(recorder, 5, "", "/health");
  bool sent = recorder.flush(std::chrono::seconds(2));
  xray::Stats stats = recorder.stats();
  std::printf("demo_service: flushed=%s emitted=%llu dropped_queue_full=%llu send_errors=%llu bytes=%llu\n",
              sent ? "yes" : "no", static_cast<unsigned long long>(stats.emitted),
              static_cast<unsigned long long>(stats.dropped_queue_full),
              static_cast<unsigned long long>(stats.send_errors),
              static_cast<unsigned long long>(stats.bytes_sent));
  return sent ? 0 : 1;
}
