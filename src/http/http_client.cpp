#include "http/http_client.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "base/ascii.hpp"
#include "net/resolver.hpp"

namespace xray::detail {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

thread_local const std::atomic<bool>* t_thread_cancel = nullptr;

// One exchange on its own io_context. Every step is asynchronous so that one run_until(deadline)
// bounds the whole call; what has not finished by then is cancelled.
class Exchange {
 public:
  Exchange(const HttpRequest& request, const HttpDeadlines& deadlines)
      : request_(request), deadlines_(deadlines) {}

  HttpResult run() {
    if (cancelled()) return failure("cancelled");
    // DNS first, on a thread of its own: asio's resolver would make this call (and the
    // io_context's destructor) wait for getaddrinfo however long it hangs.
    Resolution resolution = resolve_host(request_.host, SocketKind::kStream, deadlines_.deadline,
                                         [this] { return cancelled(); });
    if (!resolution.ok()) return failure("resolve " + request_.host + ": " + resolution.error);
    std::vector<tcp::endpoint> endpoints;
    for (const auto& text : resolution.addresses) {
      boost::system::error_code ec;
      auto address = asio::ip::make_address(text, ec);
      if (!ec) endpoints.emplace_back(address, request_.port);
    }
    if (endpoints.empty()) return failure("resolve " + request_.host + ": no usable address");

    if (request_.tls) {
      // Created only for https: OpenSSL state set up while the process exits is how a poller once
      // crashed at exit.
      boost::system::error_code ec;
      ssl_.emplace(asio::ssl::context::tls_client);
      ssl_->set_verify_mode(asio::ssl::verify_peer, ec);
      if (!ec) ssl_->load_verify_file(request_.ca_file, ec);
      if (ec) return failure("TLS set-up: " + ec.message());
      tls_stream_.emplace(io_, *ssl_);
    } else {
      plain_stream_.emplace(io_);
    }
    build_request();
    parser_.body_limit(deadlines_.max_body_bytes);
    parser_.header_limit(16 * 1024);

    connect(endpoints);
    // In slices, so that a raised cancel flag ends the exchange within one slice.
    constexpr auto kSlice = std::chrono::milliseconds(20);
    while (!done_ && !cancelled()) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadlines_.deadline || io_.stopped()) break;
      io_.run_until(std::min(deadlines_.deadline, now + kSlice));
    }
    if (!done_) {
      // Out of time (or cancelled): cancel what is pending and let the handlers observe it.
      close_socket();
      io_.restart();
      io_.poll();
      if (result_.error.empty() && !result_.response) {
        result_.error = cancelled() ? "cancelled" : "deadline exceeded";
      }
    }
    return std::move(result_);
  }

 private:
  beast::tcp_stream& tcp_stream() {
    return tls_stream_ ? beast::get_lowest_layer(*tls_stream_) : *plain_stream_;
  }

  void close_socket() {
    boost::system::error_code ec;
    tcp_stream().socket().close(ec);
  }

  HttpResult failure(std::string error) {
    HttpResult result;
    result.error = std::move(error);
    return result;
  }

  void fail(const std::string& step, boost::system::error_code ec) {
    if (done_) return;
    done_ = true;
    result_.error = step + ": " + ec.message();
    close_socket();
  }

  void build_request() {
    http::verb verb = http::string_to_verb(request_.method);
    message_.method(verb == http::verb::unknown ? http::verb::get : verb);
    message_.target(request_.target);
    message_.version(11);
    std::string host = request_.host.find(':') != std::string::npos ? "[" + request_.host + "]"
                                                                     : request_.host;
    message_.set(http::field::host, host + ":" + std::to_string(request_.port));
    message_.set(http::field::connection, "close");
    for (const auto& [name, value] : request_.headers) message_.set(name, value);
    message_.body() = request_.body;
    message_.prepare_payload();
  }

  bool cancelled() const noexcept {
    return (deadlines_.cancel != nullptr && deadlines_.cancel->load(std::memory_order_relaxed)) ||
           (thread_cancel_ != nullptr && thread_cancel_->load(std::memory_order_relaxed));
  }

  void connect(const std::vector<tcp::endpoint>& endpoints) {
    auto now = std::chrono::steady_clock::now();
    auto connect_deadline = std::min(deadlines_.deadline, now + deadlines_.connect);
    tcp_stream().expires_at(connect_deadline);
    tcp_stream().async_connect(endpoints, [this](const boost::system::error_code& connect_ec,
                                                 const tcp::endpoint&) { on_connect(connect_ec); });
  }

  void on_connect(const boost::system::error_code& ec) {
    if (ec) return fail("connect", ec);
    tcp_stream().expires_at(deadlines_.deadline);
    if (tls_stream_) {
      if (!SSL_set_tlsext_host_name(tls_stream_->native_handle(), request_.host.c_str())) {
        return fail("TLS SNI", boost::system::error_code(static_cast<int>(::ERR_get_error()),
                                                          asio::error::get_ssl_category()));
      }
      tls_stream_->set_verify_callback(asio::ssl::host_name_verification(request_.host));
      tls_stream_->async_handshake(asio::ssl::stream_base::client,
                                   [this](const boost::system::error_code& handshake_ec) {
                                     if (handshake_ec) return fail("TLS handshake", handshake_ec);
                                     write();
                                   });
      return;
    }
    write();
  }

  void write() {
    auto on_write = [this](const boost::system::error_code& ec, std::size_t) {
      if (ec) return fail("write", ec);
      read();
    };
    if (tls_stream_) {
      http::async_write(*tls_stream_, message_, on_write);
    } else {
      http::async_write(*plain_stream_, message_, on_write);
    }
  }

  // Header first: Beast 1.74 does not enforce body_limit against a declared Content-Length, so the
  // cap is checked here before any body byte is read.
  void read() {
    auto on_header = [this](const boost::system::error_code& ec, std::size_t) {
      if (ec) return fail("read", ec);
      auto length = parser_.content_length();
      if (length && *length > deadlines_.max_body_bytes) {
        return fail("read", boost::beast::http::error::body_limit);
      }
      read_body();
    };
    if (tls_stream_) {
      http::async_read_header(*tls_stream_, buffer_, parser_, on_header);
    } else {
      http::async_read_header(*plain_stream_, buffer_, parser_, on_header);
    }
  }

  void read_body() {
    auto on_read = [this](const boost::system::error_code& ec, std::size_t) {
      if (ec) return fail("read", ec);
      if (parser_.get().body().size() > deadlines_.max_body_bytes) {
        return fail("read", boost::beast::http::error::body_limit);
      }
      done_ = true;
      HttpResponse response;
      auto& message = parser_.get();
      response.status = static_cast<int>(message.result_int());
      response.body = std::move(message.body());
      for (const auto& field : message) {
        response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
      }
      result_.response = std::move(response);
      close_socket();
    };
    if (tls_stream_) {
      http::async_read(*tls_stream_, buffer_, parser_, on_read);
    } else {
      http::async_read(*plain_stream_, buffer_, parser_, on_read);
    }
  }

  const HttpRequest& request_;
  const HttpDeadlines& deadlines_;
  const std::atomic<bool>* const thread_cancel_ = t_thread_cancel;
  asio::io_context io_;
  std::optional<asio::ssl::context> ssl_;
  std::optional<beast::tcp_stream> plain_stream_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_stream_;
  http::request<http::string_body> message_;
  http::response_parser<http::string_body> parser_;
  beast::flat_buffer buffer_;
  HttpResult result_;
  bool done_ = false;
};

}  // namespace

ThreadCancelScope::ThreadCancelScope(const std::atomic<bool>* flag) noexcept
    : previous_(t_thread_cancel) {
  t_thread_cancel = flag;
}

ThreadCancelScope::~ThreadCancelScope() { t_thread_cancel = previous_; }

const std::string* HttpResponse::header(std::string_view name) const noexcept {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return &value;
  }
  return nullptr;
}

HttpResult http_request(const HttpRequest& request, const HttpDeadlines& deadlines) noexcept {
  try {
    Exchange exchange(request, deadlines);
    return exchange.run();
  } catch (const std::exception& e) {
    HttpResult result;
    result.error = e.what();
    return result;
  }
}

std::optional<ParsedUrl> parse_http_url(std::string_view url) noexcept {
  try {
    ParsedUrl parsed;
    if (url.substr(0, 7) == "http://") {
      url.remove_prefix(7);
    } else if (url.substr(0, 8) == "https://") {
      url.remove_prefix(8);
      parsed.tls = true;
      parsed.port = 443;
    } else {
      return std::nullopt;
    }
    std::size_t path = url.find('/');
    std::string_view authority = url.substr(0, path);
    parsed.target = path == std::string_view::npos ? "/" : std::string(url.substr(path));
    std::string_view host = authority;
    std::string_view port;
    if (!authority.empty() && authority.front() == '[') {
      std::size_t close = authority.find(']');
      if (close == std::string_view::npos) return std::nullopt;
      host = authority.substr(1, close - 1);
      std::string_view rest = authority.substr(close + 1);
      if (!rest.empty()) {
        if (rest.front() != ':') return std::nullopt;
        port = rest.substr(1);
      }
    } else if (std::size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
    }
    if (host.empty()) return std::nullopt;
    parsed.host = std::string(host);
    if (!port.empty()) {
      unsigned value = 0;
      auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
      if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
        return std::nullopt;
      }
      parsed.port = static_cast<std::uint16_t>(value);
    }
    return parsed;
  } catch (...) {
    return std::nullopt;
  }
}

}  // namespace xray::detail
