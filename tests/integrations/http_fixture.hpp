// Test fixtures for the HTTP integration tests: a small Beast server on 127.0.0.1:0 (a thread per
// connection, so concurrent requests run on concurrent threads), a server that accepts and never
// answers, a refused port, and a plain (untraced) libcurl GET.
//
// Thread safety: TestServer's handler is called concurrently from connection threads.
#pragma once

#include <curl/curl.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <algorithm>
#include <atomic>
#include <cctype>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace xray::testing {

namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

inline Response make_response(const Request& request, http::status status, std::string body) {
  Response response{status, request.version()};
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

// Serves until destroyed. A handler exception is answered with 500.
class TestServer {
 public:
  using Handler = std::function<Response(const Request&, const std::string& peer)>;

  explicit TestServer(Handler handler)
      : handler_(std::move(handler)),
        acceptor_(io_, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)) {
    port_ = acceptor_.local_endpoint().port();
    accept_thread_ = std::thread([this] { accept_loop(); });
  }
  ~TestServer() {
    stop_ = true;
    boost::system::error_code ec;
    tcp::socket wake(io_);
    wake.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port_), ec);
    accept_thread_.join();
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& session : sessions_) session.join();
  }
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  unsigned short port() const { return port_; }
  std::string url(const std::string& target) const {
    return "http://127.0.0.1:" + std::to_string(port_) + target;
  }

 private:
  void accept_loop() {
    for (;;) {
      tcp::socket socket(io_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (stop_ || ec) return;
      std::lock_guard<std::mutex> lock(mutex_);
      sessions_.emplace_back([this, s = std::move(socket)]() mutable { serve(std::move(s)); });
    }
  }
  void serve(tcp::socket socket) {
    boost::system::error_code ec;
    const std::string peer = socket.remote_endpoint(ec).address().to_string();
    boost::beast::flat_buffer buffer;
    for (;;) {
      Request request;
      http::read(socket, buffer, request, ec);
      if (ec) break;
      Response response;
      try {
        response = handler_(request, peer);
      } catch (...) {
        response = make_response(request, http::status::internal_server_error, "boom");
      }
      response.keep_alive(request.keep_alive());
      http::write(socket, response, ec);
      if (ec || !request.keep_alive()) break;
    }
    socket.shutdown(tcp::socket::shutdown_both, ec);
  }

  Handler handler_;
  boost::asio::io_context io_;
  tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::vector<std::thread> sessions_;  // guarded by mutex_
  std::thread accept_thread_;
};

// Accepts connections and never answers (for timeouts); closes them when destroyed.
class SilentServer {
 public:
  SilentServer() : acceptor_(io_, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)) {
    port_ = acceptor_.local_endpoint().port();
  }
  unsigned short port() const { return port_; }

 private:
  boost::asio::io_context io_;
  tcp::acceptor acceptor_;  // the kernel completes handshakes into the backlog: no accept needed
  unsigned short port_ = 0;
};

// A loopback port nobody listens on (bound then released; nothing else binds it this quickly).
inline unsigned short refused_port() {
  boost::asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  return acceptor.local_endpoint().port();
}

struct Reply {
  CURLcode code = CURLE_OK;
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lowercase names; first line wins
};

inline std::size_t append_body(char* data, std::size_t size, std::size_t count, void* out) {
  static_cast<Reply*>(out)->body.append(data, size * count);
  return size * count;
}

inline std::size_t append_header(char* data, std::size_t size, std::size_t count, void* out) {
  std::string line(data, size * count);
  std::size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    value.erase(value.find_last_not_of(" \t\r\n") + 1);
    static_cast<Reply*>(out)->headers.emplace(name, value);
  }
  return size * count;
}

// A plain, untraced GET with extra header lines ("Name: value").
inline Reply plain_get(const std::string& url, const std::vector<std::string>& header_lines = {}) {
  Reply reply;
  CURL* easy = curl_easy_init();
  curl_slist* headers = nullptr;
  for (const auto& line : header_lines) headers = curl_slist_append(headers, line.c_str());
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(easy, CURLOPT_USERAGENT, "xray-test/1.0");
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &reply);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, append_header);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, &reply);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 10000L);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  reply.code = curl_easy_perform(easy);
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &reply.status);
  curl_easy_cleanup(easy);
  curl_slist_free_all(headers);
  return reply;
}

}  // namespace xray::testing
