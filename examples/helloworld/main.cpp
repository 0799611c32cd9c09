// helloworld: the X-Ray walkthrough's Flask service in C++ (Boost.Beast server, libcurl client).
//
//   GET /helloworld  -> 200 "Hello World"
//   GET /call        -> calls the downstream URL with the traced libcurl client and reports its status
//
//   helloworld [--port N] [--downstream URL] [--self-test]
//   (or PORT and DOWNSTREAM_URL in the environment; port 0 lets the OS choose, printed at start)
//
// Tracing is two lines: configure the recorder, wrap the handler with xray::beast::traced. Every
// request becomes a segment; the /call handler's libcurl call becomes a "remote" subsegment whose
// X-Amzn-Trace-Id makes the downstream's segment a child of it.
//
// --self-test starts the server on a free port, requests /helloworld through the traced client and
// exits 0 if the answer is right (the ctest smoke test).
#include <curl/curl.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <functional>
#include <iostream>
#include <string>
#include <thread>

#include "xray/beast.hpp"
#include "xray/curl.hpp"
#include "xray/plugins.hpp"
#include "xray/xray.hpp"

namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

struct Settings {
  unsigned short port = 8000;
  std::string downstream;
  bool self_test = false;
};

std::size_t collect(char* data, std::size_t size, std::size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

// GET `url` with the traced client; returns the status (0 when there was no response).
long fetch(const std::string& url, std::string* body, std::string* error) {
  CURL* easy = curl_easy_init();
  if (easy == nullptr) return 0;
  std::string received;
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &received);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 5000L);
  xray::curl::Options options;
  options.traced = true;  // the downstream is this same, traced, service
  CURLcode code = xray::curl::perform(easy, url, options);
  long status = 0;
  if (code == CURLE_OK) curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  else if (error != nullptr) *error = curl_easy_strerror(code);
  curl_easy_cleanup(easy);
  if (body != nullptr) *body = std::move(received);
  return status;
}

Response handle(const Request& request, const Settings& settings) {
  Response response{http::status::ok, request.version()};
  response.set(http::field::content_type, "text/plain");
  std::string target(request.target());
  target = target.substr(0, target.find('?'));
  if (request.method() == http::verb::get && target == "/helloworld") {
    response.body() = "Hello World";
  } else if (request.method() == http::verb::get && target == "/call" && !settings.downstream.empty()) {
    std::string error;
    long status = fetch(settings.downstream, nullptr, &error);
    if (status == 0) {
      response.result(http::status::bad_gateway);
      response.body() = "downstream failed: " + error + "\n";
    } else {
      response.body() = "downstream returned " + std::to_string(status) + "\n";
    }
  } else {
    response.result(http::status::not_found);
    response.body() = "not found\n";
  }
  response.prepare_payload();
  return response;
}

// One connection, synchronously, on its own thread.
template <class Handler>
void serve(tcp::socket socket, Handler& handler) {
  boost::system::error_code ec;
  const std::string peer = socket.remote_endpoint(ec).address().to_string();
  boost::beast::flat_buffer buffer;
  for (;;) {
    Request request;
    http::read(socket, buffer, request, ec);
    if (ec) break;
    Response response;
    try {
      response = handler(request, peer);  // traced: a segment per request
    } catch (...) {  // recorded on the segment by the wrapper
      response = Response{http::status::internal_server_error, request.version()};
      response.body() = "internal error\n";
      response.prepare_payload();
    }
    response.keep_alive(request.keep_alive());
    http::write(socket, response, ec);
    if (ec || !request.keep_alive()) break;
  }
  socket.shutdown(tcp::socket::shutdown_send, ec);
}

Settings parse(int argc, char** argv) {
  Settings settings;
  if (const char* port = std::getenv("PORT")) settings.port = static_cast<unsigned short>(std::stoi(port));
  if (const char* url = std::getenv("DOWNSTREAM_URL")) settings.downstream = url;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--port" && i + 1 < argc) {
      settings.port = static_cast<unsigned short>(std::stoi(argv[++i]));
    } else if (arg == "--downstream" && i + 1 < argc) {
      settings.downstream = argv[++i];
    } else if (arg == "--self-test") {
      settings.self_test = true;
      settings.port = 0;
    } else {
      std::cerr << "usage: helloworld [--port N] [--downstream URL] [--self-test]\n";
      std::exit(2);
    }
  }
  return settings;
}

int self_test(unsigned short port) {
  auto segment = xray::Recorder::global().begin_segment("helloworld-self-test");
  std::string body;
  long status = fetch("http://127.0.0.1:" + std::to_string(port) + "/helloworld", &body, nullptr);
  segment.end();
  xray::Recorder::global().flush(std::chrono::seconds(1));
  if (status != 200 || body != "Hello World") {
    std::cerr << "self-test failed: status " << status << ", body '" << body << "'\n";
    return 1;
  }
  std::cout << "self-test passed\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings = parse(argc, argv);
  curl_global_init(CURL_GLOBAL_DEFAULT);

  // The walkthrough's xray_recorder.configure(service='My application'). Environment variables
  // (AWS_XRAY_DAEMON_ADDRESS, AWS_XRAY_TRACING_NAME, ...) still win.
  xray::Config config;
  config.service_name = "helloworld";
  // The walkthrough's plugins=('EC2Plugin', 'ECSPlugin'), plus EKS and Elastic Beanstalk so that
  // every deploy/ platform reports itself: detected in the background, so off AWS they cost the
  // service nothing and contribute nothing.
  config.plugins = {xray::plugins::ec2(), xray::plugins::ecs(), xray::plugins::eks(),
                    xray::plugins::elastic_beanstalk()};
  xray::Recorder::global().configure(config);
  // The walkthrough's XRayMiddleware(app, xray_recorder): one wrapper around the handler.
  auto handler = xray::beast::traced(
      [&settings](const Request& request) { return handle(request, settings); });

  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(tcp::v4(), settings.port));
  const unsigned short port = acceptor.local_endpoint().port();
  std::cout << "helloworld listening on port " << port << std::endl;

  std::function<void()> accept = [&] {
    acceptor.async_accept([&](boost::system::error_code ec, tcp::socket socket) {
      if (ec) return;
      std::thread([&handler, s = std::move(socket)]() mutable { serve(std::move(s), handler); })
          .detach();
      accept();
    });
  };
  accept();
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code, int) { io.stop(); });

  int status = 0;
  if (settings.self_test) {
    std::thread server([&io] { io.run(); });
    status = self_test(port);
    io.stop();
    server.join();
  } else {
    io.run();
  }
  xray::Recorder::global().flush(std::chrono::seconds(2));
  std::cout.flush();
  // Connection threads are detached and may still be blocked in a read: end without running static
  // destructors under them (everything queued was flushed above).
  std::quick_exit(status);
}
