// xray_local.hpp: the whole tool, wired: the UDP receiver feeding ingest and the trace store (and
// the forwarder), the sampling proxy on TCP, the web console. main.cpp runs one; tests run one
// in-process on free ports.
//
//   xray::local::Options options;          // or parse_options(...)
//   options.address = *xray::local::parse_listen_address("127.0.0.1:0", nullptr);
//   options.http = xray::Endpoint{"127.0.0.1", 0};
//   options.print = xray::local::Options::Print::kNothing;
//   xray::local::StartError error;
//   auto tool = xray::local::XrayLocal::start(options, std::cout, std::cerr, &error);
//   if (!tool) { std::cerr << error.message << "\n"; return error.exit_code; }
//   std::cout << tool->console_url();
//
// Documents are printed on `out` (terminal mode), warnings and the start-up lines on `log`; both
// streams must outlive the tool and are written from its receiving thread.
//
// Thread safety: the accessors may be called from any thread; stop from one thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "options.hpp"

namespace xray::local {

class Forwarder;
class HttpServer;
class Ingest;
class SamplingProxy;
class TraceStore;
class UdpReceiver;

struct StartError {
  int exit_code = 0;  // 1: an address could not be bound; 2: a bad argument or rules file
  std::string message;
};

class XrayLocal {
 public:
  static std::unique_ptr<XrayLocal> start(const Options& options, std::ostream& out,
                                          std::ostream& log, StartError* error);
  ~XrayLocal();
  XrayLocal(const XrayLocal&) = delete;
  XrayLocal& operator=(const XrayLocal&) = delete;

  std::uint16_t udp_port() const noexcept;
  std::uint16_t tcp_port() const noexcept { return tcp_port_; }
  std::optional<std::uint16_t> http_port() const noexcept { return http_port_; }
  // "http://127.0.0.1:2080/", or empty without a console.
  std::string console_url() const;

  std::uint64_t datagrams() const noexcept { return datagrams_.load(); }
  // Seconds on the steady clock at the last datagram or sampling request.
  double last_activity() const noexcept { return last_activity_.load(); }

  TraceStore& store() noexcept { return *store_; }

  // Stops receiving and serving; joins the threads. Idempotent.
  void stop();

 private:
  XrayLocal() = default;

  Options options_;
  std::ostream* out_ = nullptr;
  std::ostream* log_ = nullptr;
  std::unique_ptr<TraceStore> store_;
  std::unique_ptr<Ingest> ingest_;
  std::unique_ptr<SamplingProxy> sampling_;
  std::unique_ptr<Forwarder> forwarder_;
  std::unique_ptr<UdpReceiver> receiver_;
  std::unique_ptr<HttpServer> server_;
  std::thread receiving_;
  std::uint16_t tcp_port_ = 0;
  std::optional<std::uint16_t> http_port_;
  std::atomic<std::uint64_t> datagrams_{0};
  std::atomic<double> last_activity_{0};
  // Warnings on `log`: at most kWarningsPerSecond a second (receiving thread only).
  long warning_second_ = 0;
  int warnings_this_second_ = 0;
  std::uint64_t warnings_suppressed_ = 0;
};

// Epoch seconds now; steady-clock seconds now.
double epoch_seconds() noexcept;
double steady_seconds() noexcept;

}  // namespace xray::local
