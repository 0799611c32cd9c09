// xray-local: the X-Ray daemon and console for a developer machine. Receives segments where the
// daemon would (UDP 127.0.0.1:2000), serves centralized sampling on TCP as the daemon does, and
// shows what arrived: a web console (service map, traces, timelines) at http://127.0.0.1:2080/ and,
// in terminal mode, each document as a tree on stdout. See README.md next to this file.
//
// Exit status: 0 after SIGINT/SIGTERM, --once or --timeout; 1 when an address cannot be bound;
// 2 for a bad argument or rules file.
#include <csignal>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "options.hpp"
#include "xray_local.hpp"

namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

}  // namespace

int main(int argc, char** argv) {
  std::string error;
  const auto options = xray::local::parse_options(std::vector<std::string>(argv + 1, argv + argc), &error);
  if (!options) {
    std::cerr << "xray-local: " << error << "\n" << xray::local::usage();
    return 2;
  }
  if (options->help) {
    std::cout << xray::local::usage();
    return 0;
  }
  struct sigaction action {};
  action.sa_handler = on_signal;
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);

  xray::local::StartError failure;
  auto tool = xray::local::XrayLocal::start(*options, std::cout, std::cerr, &failure);
  if (!tool) {
    std::cerr << "xray-local: " << failure.message << "\n";
    return failure.exit_code;
  }
  // On stderr, so stdout carries only documents; the ports are the real ones when 0 was asked.
  std::cerr << "xray-local: listening on udp "
            << xray::to_string(xray::Endpoint{options->address.udp.host, tool->udp_port()})
            << ", sampling proxy on tcp "
            << xray::to_string(xray::Endpoint{options->address.tcp.host, tool->tcp_port()})
            << std::endl;
  if (tool->http_port()) std::cerr << "xray-local: console on " << tool->console_url() << std::endl;

  while (!g_stop) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // a signal flag has no fd to wait on
    if (options->once > 0 && tool->datagrams() >= static_cast<std::uint64_t>(options->once)) break;
    if (options->timeout > 0 &&
        xray::local::steady_seconds() - tool->last_activity() >= options->timeout) {
      break;
    }
  }
  tool->stop();
  return 0;
}
