// Emitter benchmarks.
//
//   BM_RequestThreadHandOff: what a request thread pays to begin and end a sampled segment with 3
//     subsegments and 2 annotations, including the hand-off to the emitter queue (the emitter
//     thread drains concurrently to a loopback receiver; pacing off so the queue never fills).
//   BM_RequestThreadDrop/threads:N: the same request when the queue is full (a queue of 16 and a
//     pace of one datagram per second): nearly every document takes the drop path. On 2 threads it
//     shows whether dropping touches a cache line the threads share.
//   BM_EmitterThroughput: documents serialized (through the size ladder) and sent per second by the
//     emitter thread, pacing off, to a loopback receiver whose thread drains the socket. The
//     document is the performance issue's request: a segment from an upstream Sampled=1 header and
//     3 subsegments with one string annotation each. The trees are built beforehand (clock
//     stopped); the clock runs from the first hand-off until flush() returns.
//   BM_SendmmsgFloor: the same number of pre-serialized datagrams of the same size sent with
//     sendmmsg(2) in batches of 32 to the same kind of receiver: the system-call floor that
//     BM_EmitterThroughput is compared with (documents_per_second of both; their ratio is the
//     emitter's own overhead).
//   BM_OverloadMemory/kind:K: the SDK under sustained overload with the default configuration
//     (pace 5,000 datagrams/s, queue_capacity 2048, the default byte bound): one thread ends
//     requests as fast as it can for 3 s, a receiver drains the socket. kind 0: the issue's
//     request; kind 1: a segment with a 32 KB annotation. rss_growth_kb: the largest VmRSS seen
//     during the run minus VmRSS before the recorder was created (everything the SDK added: its
//     threads, queue and buffers); dropped and sent per request.
//   Both also report documents_per_cpu_second: documents per second of CPU time of the sending
//   thread (the emitter's, or the benchmark's), the "one core" figure, which a loaded machine
//   moves far less than the wall-clock rate.
//
// Build: cmake -DCMAKE_BUILD_TYPE=Release -DXRAY_BUILD_BENCHMARKS=ON; run bench/emitter_bench.
//   build/bench/bench/emitter_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <set>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>

#include "draining_receiver.hpp"
#include "resident_memory.hpp"

#include "emitter/udp_emitter.hpp"
#include "model/serializer.hpp"
#include "recorder/recorder_core.hpp"
#include "xray/recorder.hpp"

namespace {

using xray::bench::DrainingReceiver;
using xray::bench::rss_kb;

// The ids of this process's threads.
std::set<pid_t> thread_ids() {
  std::set<pid_t> ids;
  if (DIR* dir = ::opendir("/proc/self/task")) {
    while (const dirent* entry = ::readdir(dir)) {
      if (entry->d_name[0] != '.') ids.insert(static_cast<pid_t>(std::atoi(entry->d_name)));
    }
    ::closedir(dir);
  }
  return ids;
}

// CPU time of thread `tid` of this process, in seconds: the kernel's per-thread CPU clock, whose
// id encodes the thread id (what pthread_getcpuclockid computes for a pthread_t).
double thread_cpu_seconds(pid_t tid) {
  const clockid_t clock = static_cast<clockid_t>((~static_cast<unsigned>(tid) << 3) | 6);
  timespec time{};
  if (::clock_gettime(clock, &time) != 0) return 0;
  return static_cast<double>(time.tv_sec) + static_cast<double>(time.tv_nsec) / 1e9;
}

double own_cpu_seconds() {
  timespec time{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time);
  return static_cast<double>(time.tv_sec) + static_cast<double>(time.tv_nsec) / 1e9;
}

DrainingReceiver& receiver() {
  static DrainingReceiver instance;
  return instance;
}

struct Setup {
  xray::Recorder recorder;
  xray::detail::UdpEmitter* emitter = nullptr;

  explicit Setup(std::size_t queue_capacity, double rate = 0, std::size_t burst = 1) {
    auto& core = xray::detail::RecorderAccess::core(recorder);
    auto udp = std::make_unique<xray::detail::UdpEmitter>(
        core.logger(), [&core] { return core.plugins().result(); }, queue_capacity);
    emitter = udp.get();
    core.set_emitter(std::move(udp));
    xray::Config config;
    config.service_name = "bench";
    config.daemon_address = receiver().address();
    config.sampling = false;
    config.queue_capacity = queue_capacity;
    config.emit_rate = rate;
    config.emit_burst = burst;
    config.log_level = xray::LogLevel::kSilent;
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

void BM_RequestThreadDrop(benchmark::State& state) {
  static Setup* setup = nullptr;
  if (state.thread_index() == 0) setup = new Setup(16, 1, 1);
  // Other threads wait at the benchmark's start barrier until thread 0 has set up.
  for (auto _ : state) one_request(setup->recorder);
  if (state.thread_index() == 0) {
    const xray::Stats stats = setup->recorder.stats();
    const double requests = static_cast<double>(state.iterations()) * state.threads();
    state.counters["dropped"] = static_cast<double>(stats.dropped_queue_full) / requests;
    delete setup;
    setup = nullptr;
  }
}
BENCHMARK(BM_RequestThreadDrop)->Threads(1)->Threads(2)->UseRealTime();

// The performance issue's request; its tree is handed to whatever emitter the recorder has.
void issue_request(xray::Recorder& recorder, const xray::TraceHeader& upstream) {
  auto segment = recorder.begin_segment("request", upstream);
  for (const char* name : {"validate", "query", "render"}) {
    auto sub = recorder.begin_subsegment(name);
    sub.put_annotation("step", name);
  }
}

// Keeps the trees a recorder hands off, for the benchmark to hand to the real emitter later.
class CapturingEmitter final : public xray::detail::Emitter {
 public:
  void submit(std::shared_ptr<xray::detail::Entity> root) noexcept override {
    roots.push_back(std::move(root));
  }
  bool flush(std::chrono::milliseconds) noexcept override { return true; }
  xray::Stats stats() const noexcept override { return {}; }
  void shutdown(std::chrono::milliseconds) noexcept override {}
  std::vector<std::shared_ptr<xray::detail::Entity>> roots;
};

struct Builder {
  xray::Recorder recorder;
  CapturingEmitter* capture = nullptr;
  xray::TraceHeader upstream =
      xray::TraceHeader::parse("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1");

  Builder() {
    auto& core = xray::detail::RecorderAccess::core(recorder);
    auto emitter = std::make_unique<CapturingEmitter>();
    capture = emitter.get();
    core.set_emitter(std::move(emitter));
    xray::Config config;
    config.service_name = "bench";
    config.log_level = xray::LogLevel::kSilent;
    (void)core.configure(config, [](const char*) -> const char* { return nullptr; });
  }
  std::vector<std::shared_ptr<xray::detail::Entity>> build(int count) {
    capture->roots.reserve(static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i) issue_request(recorder, upstream);
    return std::move(capture->roots);
  }
};

constexpr int kDocuments = 20000;

void BM_EmitterThroughput(benchmark::State& state) {
  Builder builder;
  xray::detail::Logger logger;
  logger.set_level(xray::LogLevel::kSilent);
  xray::detail::UdpEmitter emitter(logger, nullptr, kDocuments);
  xray::detail::EmitterOptions options;
  options.address = *xray::parse_daemon_address(receiver().address(), nullptr);
  options.queue_capacity = kDocuments;
  options.queue_capacity_bytes = std::size_t{1} << 30;  // all of them queued at once
  options.datagrams_per_second = 0;
  emitter.configure(options);
  // The emitter thread starts with the first submission: it is the thread that appears then.
  const std::set<pid_t> before_start = thread_ids();
  emitter.submit(builder.build(1).front());
  emitter.flush(std::chrono::seconds(10));
  pid_t emitter_thread = 0;
  for (pid_t tid : thread_ids()) {
    if (before_start.count(tid) == 0) emitter_thread = tid;
  }
  std::uint64_t documents = 0;
  double cpu_seconds = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto roots = builder.build(kDocuments);
    const std::uint64_t before = emitter.stats().emitted;
    const double cpu_before = thread_cpu_seconds(emitter_thread);
    state.ResumeTiming();
    for (auto& root : roots) emitter.submit(std::move(root));
    emitter.flush(std::chrono::seconds(60));
    cpu_seconds += thread_cpu_seconds(emitter_thread) - cpu_before;
    documents += emitter.stats().emitted - before;
  }
  const xray::Stats stats = emitter.stats();
  state.counters["documents_per_second"] =
      benchmark::Counter(static_cast<double>(documents), benchmark::Counter::kIsRate);
  // Documents per second of the emitter thread's own CPU time: what one core does, whatever else
  // the machine runs (wall-clock rates move with the load of a shared machine).
  state.counters["documents_per_cpu_second"] =
      cpu_seconds > 0 ? static_cast<double>(documents) / cpu_seconds : 0;
  state.counters["bytes_per_datagram"] =
      stats.datagrams_sent ? static_cast<double>(stats.bytes_sent / stats.datagrams_sent) : 0;
  state.counters["lost"] = static_cast<double>(stats.send_errors + stats.dropped_queue_full);
}
BENCHMARK(BM_EmitterThroughput)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_SendmmsgFloor(benchmark::State& state) {
  // One document of the benchmark above, serialized as the emitter does: the datagram size.
  Builder builder;
  auto roots = builder.build(1);
  std::string datagram(xray::detail::kDatagramHeader);
  xray::detail::DocumentContext context;
  context.trace_id = roots.front()->tree->trace_id;
  xray::detail::write_document(datagram, *roots.front(), context);

  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(receiver().port());
  ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  constexpr std::size_t kBatch = 32;
  std::vector<std::string> datagrams(kBatch, datagram);  // distinct buffers, as the emitter's
  mmsghdr headers[kBatch];
  iovec vectors[kBatch];
  std::uint64_t documents = 0;
  std::uint64_t lost = 0;
  double cpu_seconds = 0;
  for (auto _ : state) {
    const double cpu_before = own_cpu_seconds();
    for (int sent = 0; sent < kDocuments;) {
      const std::size_t count = std::min<std::size_t>(kBatch, static_cast<std::size_t>(kDocuments - sent));
      for (std::size_t i = 0; i < count; ++i) {
        vectors[i].iov_base = datagrams[i].data();
        vectors[i].iov_len = datagrams[i].size();
        headers[i] = mmsghdr{};
        headers[i].msg_hdr.msg_iov = &vectors[i];
        headers[i].msg_hdr.msg_iovlen = 1;
      }
      const int n = ::sendmmsg(fd, headers, static_cast<unsigned>(count), MSG_NOSIGNAL);
      if (n <= 0) {
        ++lost;  // EAGAIN and the like: counted, and the datagram skipped, as the emitter would
        ++sent;
        continue;
      }
      sent += n;
      documents += static_cast<std::uint64_t>(n);
    }
    cpu_seconds += own_cpu_seconds() - cpu_before;
  }
  ::close(fd);
  state.counters["documents_per_second"] =
      benchmark::Counter(static_cast<double>(documents), benchmark::Counter::kIsRate);
  state.counters["documents_per_cpu_second"] =
      cpu_seconds > 0 ? static_cast<double>(documents) / cpu_seconds : 0;
  state.counters["bytes_per_datagram"] = static_cast<double>(datagram.size());
  state.counters["lost"] = static_cast<double>(lost);
}
BENCHMARK(BM_SendmmsgFloor)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_OverloadMemory(benchmark::State& state) {
  const bool big = state.range(0) == 1;
  const std::string payload(32 * 1024, 'x');
  const xray::TraceHeader upstream =
      xray::TraceHeader::parse("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1");
  (void)receiver();
  for (auto _ : state) {
    const long before = rss_kb();
    long peak = before;
    std::uint64_t requests = 0;
    xray::Stats stats;
    {
      xray::Recorder recorder;
      xray::Config config;  // the defaults, but for the address and sampling everything
      config.service_name = "bench";
      config.daemon_address = receiver().address();
      config.log_level = xray::LogLevel::kSilent;
      config.sampling = false;
      recorder.configure(config);
      const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(3);
      while (std::chrono::steady_clock::now() < end) {
        for (int i = 0; i < 1000; ++i) {
          if (big) {
            auto segment = recorder.begin_segment("big", upstream);
            segment.put_annotation("payload", payload);
          } else {
            issue_request(recorder, upstream);
          }
        }
        requests += 1000;
        peak = std::max(peak, rss_kb());
      }
      stats = recorder.stats();
      xray::detail::RecorderAccess::core(recorder).shutdown(std::chrono::milliseconds(0));
    }
    state.counters["rss_growth_kb"] = static_cast<double>(peak - before);
    state.counters["requests"] = static_cast<double>(requests);
    state.counters["dropped"] =
        static_cast<double>(stats.dropped_queue_full) / static_cast<double>(requests);
    state.counters["sent"] = static_cast<double>(stats.emitted) / static_cast<double>(requests);
  }
}
BENCHMARK(BM_OverloadMemory)->ArgName("kind")->Arg(0)->Arg(1)->Iterations(1)->Unit(benchmark::kSecond);

}  // namespace

BENCHMARK_MAIN();
