// Emitter benchmarks.
//
//   BM_RequestThreadHandOff: what a request thread pays to begin and end a sampled segment with 3
//     subsegments and 2 annotations, including the hand-off to the emitter queue (the emitter
//     thread drains concurrently to a loopback sink; pacing off so the queue never fills).
//   BM_EmitterThroughput: documents serialized (through the size ladder) and sent per second by the
//     emitter thread to a loopback UDP sink, pacing off; counts datagrams_sent per second.
//
// Build: cmake -DCMAKE_BUILD_TYPE=Release -DXRAY_BUILD_BENCHMARKS=ON; run bench/emitter_bench.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>

#include <benchmark/benchmark.h>

#include "emitter/udp_emitter.hpp"
#include "recorder/recorder_core.hpp"
#include "xray/recorder.hpp"

namespace {

// A bound loopback UDP socket nobody reads: the kernel drops what overflows its buffer, which
// costs the sender nothing extra.
class Sink {
 public:
  Sink() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
  }
  ~Sink() { ::close(fd_); }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

struct Setup {
  Sink sink;
  xray::Recorder recorder;
  xray::detail::UdpEmitter* emitter = nullptr;

  explicit Setup(std::size_t queue_capacity) {
    auto& core = xray::detail::RecorderAccess::core(recorder);
    auto udp = std::make_unique<xray::detail::UdpEmitter>(
        core.logger(), [&core] { return core.plugins().result(); }, queue_capacity);
    emitter = udp.get();
    emitter->set_pacing(0, 1);
    core.set_emitter(std::move(udp));
    xray::Config config;
    config.service_name = "bench";
    config.daemon_address = sink.address();
    config.sampling = false;
    config.queue_capacity = queue_capacity;
    config.log_level = xray::LogLevel::kError;
    (void)core.configure(config, [](const char*) -> const char* { return nullptr; });
  }
};

void one_request(xray::Recorder& recorder) {
  xray::SegmentScope segment = recorder.begin_segment("orders");
  segment.put_annotation("customer_id", 42);
  segment.put_annotation("tier", "gold");
  for (int i = 0; i < 3; ++i) {
    xray::SubsegmentScope call = recorder.begin_subsegment("dynamodb");
  }
}

void BM_RequestThreadHandOff(benchmark::State& state) {
  Setup setup(1 << 20);
  for (auto _ : state) one_request(setup.recorder);
  setup.recorder.flush(std::chrono::seconds(30));
  state.counters["dropped"] = static_cast<double>(setup.recorder.stats().dropped_queue_full);
}
BENCHMARK(BM_RequestThreadHandOff);

void BM_EmitterThroughput(benchmark::State& state) {
  constexpr int kDocuments = 20000;
  Setup setup(kDocuments);
  std::uint64_t sent = 0;
  for (auto _ : state) {
    state.PauseTiming();
    // Trees are queued while the clock is stopped; only the drain is timed. The emitter thread
    // starts draining at once, so some of that work escapes the clock: a slight overestimate.
    std::uint64_t before = setup.recorder.stats().datagrams_sent;
    for (int i = 0; i < kDocuments; ++i) one_request(setup.recorder);
    state.ResumeTiming();
    setup.recorder.flush(std::chrono::seconds(60));
    sent += setup.recorder.stats().datagrams_sent - before;
  }
  state.counters["documents_per_second"] =
      benchmark::Counter(static_cast<double>(sent), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_EmitterThroughput)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
