// The program from the core issue, compiled unchanged against the installed package.
#include <xray/xray.hpp>

#include <chrono>
#include <stdexcept>
#include <thread>

int main() {
  xray::Config config;
  config.service_name = "orders";
  xray::Recorder& recorder = xray::Recorder::global();
  recorder.configure(config);

  xray::TraceHeader upstream =
      xray::TraceHeader::parse("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1");
  {
    xray::SegmentScope segment = recorder.begin_segment("orders", upstream);
    segment.put_annotation("customer_id", 42);
    segment.put_annotation("tier", "gold");
    segment.put_annotation("vip", true);
    segment.put_metadata("path", "/orders/42");
    segment.set_user("user-123");
    {
      xray::SubsegmentScope ddb = recorder.begin_subsegment("dynamodb");
      ddb.put_annotation("table", "orders");
    }
    xray::Context context = xray::current_context();
    std::thread worker([context] {
      xray::ContextScope attach(context);
      xray::SubsegmentScope job = xray::Recorder::global().begin_subsegment("worker");
      try {
        throw std::runtime_error("boom");
      } catch (const std::exception& e) {
        job.add_exception(e);
      }
    });
    worker.join();
  }
  recorder.flush(std::chrono::seconds(2));
}
