#include "http_server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <thread>
#include <vector>

#include "xray/daemon_address.hpp"

namespace xray::local {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr std::size_t kBodyLimit = 1 << 20;
constexpr std::chrono::seconds kIdle{30};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<const HttpHandler> handler)
      : stream_(std::move(socket)), handler_(std::move(handler)) {}

  void read() {
    parser_.emplace();
    parser_->body_limit(kBodyLimit);
    stream_.expires_after(kIdle);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       self->on_read(ec);
                     });
  }

 private:
  void on_read(beast::error_code ec) {
    if (ec) {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      return;
    }
    const auto& request = parser_->get();
    HttpReply reply;
    try {
      reply = (*handler_)(HttpRequest{std::string(request.method_string()),
                                      std::string(request.target()), request.body()});
    } catch (const std::exception& e) {
      reply = HttpReply{500, "text/plain; charset=utf-8", std::string("internal error: ") + e.what()};
    }
    response_ = std::make_unique<http::response<http::string_body>>(
        static_cast<http::status>(reply.status), request.version());
    response_->set(http::field::server, "xray-local");
    response_->set(http::field::content_type, reply.content_type);
    response_->set(http::field::cache_control, "no-store");
    response_->body() = std::move(reply.body);
    response_->keep_alive(request.keep_alive());
    response_->prepare_payload();
    stream_.expires_after(kIdle);
    http::async_write(stream_, *response_,
                      [self = shared_from_this()](beast::error_code write_ec, std::size_t) {
                        self->on_write(write_ec);
                      });
  }

  void on_write(beast::error_code ec) {
    const bool keep = response_ && response_->keep_alive();
    response_.reset();
    if (ec || !keep) {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      return;
    }
    read();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::unique_ptr<http::response<http::string_body>> response_;
  std::shared_ptr<const HttpHandler> handler_;
};

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(asio::io_context& io, tcp::acceptor acceptor, std::shared_ptr<const HttpHandler> handler)
      : io_(io), acceptor_(std::move(acceptor)), handler_(std::move(handler)) {}

  void accept() {
    acceptor_.async_accept(asio::make_strand(io_), [self = shared_from_this()](
                                                       beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !self->acceptor_.is_open()) return;
      if (!ec) std::make_shared<Session>(std::move(socket), self->handler_)->read();
      self->accept();
    });
  }

  void close() {
    beast::error_code ignored;
    acceptor_.close(ignored);
  }

 private:
  asio::io_context& io_;
  tcp::acceptor acceptor_;
  std::shared_ptr<const HttpHandler> handler_;
};

}  // namespace

struct HttpServer::Impl {
  asio::io_context io{1};
  std::vector<std::shared_ptr<Listener>> listeners;
  std::thread thread;
  bool stopped = false;
};

HttpServer::HttpServer() : impl_(std::make_unique<Impl>()) {}

HttpServer::~HttpServer() { stop(); }

std::optional<std::uint16_t> HttpServer::listen(const std::string& host, std::uint16_t port,
                                                HttpHandler handler, std::string* error) {
  const std::string shown = to_string(Endpoint{host, port});
  beast::error_code ec;
  tcp::endpoint endpoint;
  const auto address = asio::ip::make_address(host, ec);
  if (!ec) {
    endpoint = tcp::endpoint(address, port);
  } else {
    tcp::resolver resolver(impl_->io);
    auto results = resolver.resolve(host, std::to_string(port), ec);
    if (ec || results.empty()) {
      if (error != nullptr) *error = "cannot listen on tcp " + shown + ": " + (ec ? ec.message() : "no address");
      return std::nullopt;
    }
    endpoint = results.begin()->endpoint();
  }
  tcp::acceptor acceptor(impl_->io);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) {
    acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (endpoint.address().is_v6()) acceptor.set_option(asio::ip::v6_only(true), ec);
    ec = {};
    acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    if (error != nullptr) *error = "cannot listen on tcp " + shown + ": " + ec.message();
    return std::nullopt;
  }
  const std::uint16_t bound = acceptor.local_endpoint(ec).port();
  impl_->listeners.push_back(std::make_shared<Listener>(
      impl_->io, std::move(acceptor), std::make_shared<const HttpHandler>(std::move(handler))));
  return bound;
}

void HttpServer::start() {
  for (auto& listener : impl_->listeners) listener->accept();
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

void HttpServer::stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  asio::post(impl_->io, [this] {
    for (auto& listener : impl_->listeners) listener->close();
  });
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  impl_->listeners.clear();
}

}  // namespace xray::local
