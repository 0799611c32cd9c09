#include "emitter/udp_emitter.hpp"

#include <pthread.h>

#include <algorithm>
#include <set>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include "model/serializer.hpp"

namespace xray::detail {
namespace asio = boost::asio;

struct UdpEmitter::Socket {
  asio::io_context io;
  asio::ip::udp::socket socket{io};
  std::optional<DaemonAddress> connected_to;
  std::chrono::steady_clock::time_point resolved_at{};
  bool broken = false;  // a send failed: re-resolve before the next send
};

struct UdpEmitter::Shared {
  std::mutex mutex;
  std::condition_variable work_cv;
  std::condition_variable done_cv;
  // Guarded by mutex.
  std::deque<std::shared_ptr<Entity>> queue;
  std::size_t capacity = 2048;
  DaemonAddress address = default_daemon_address();
  std::uint64_t accepted = 0;   // trees ever queued
  std::uint64_t completed = 0;  // trees sent or dropped by the thread
  bool stopping = false;
  bool closed = false;
  std::chrono::steady_clock::time_point drain_deadline{};
  std::unique_ptr<std::thread> thread;
};

namespace {

// Every live emitter, so fork handlers can make each one safe in the child.
std::mutex g_registry_mutex;
std::set<UdpEmitter*>& registry() {
  static auto* emitters = new std::set<UdpEmitter*>();  // outlives static destruction
  return *emitters;
}

void prepare_fork() {
  g_registry_mutex.lock();
  for (UdpEmitter* emitter : registry()) emitter->before_fork();
}
void parent_after_fork() {
  for (UdpEmitter* emitter : registry()) emitter->after_fork_parent();
  g_registry_mutex.unlock();
}
void child_after_fork() {
  for (UdpEmitter* emitter : registry()) emitter->after_fork_child();
  g_registry_mutex.unlock();
}

void register_emitter(UdpEmitter* emitter) {
  static const int registered = pthread_atfork(&prepare_fork, &parent_after_fork, &child_after_fork);
  (void)registered;
  std::lock_guard<std::mutex> lock(g_registry_mutex);
  registry().insert(emitter);
}

void unregister_emitter(UdpEmitter* emitter) {
  std::lock_guard<std::mutex> lock(g_registry_mutex);
  registry().erase(emitter);
}

}  // namespace

UdpEmitter::UdpEmitter(Logger& logger, const PluginState& plugins, std::size_t queue_capacity)
    : logger_(logger), plugins_(plugins), shared_(std::make_unique<Shared>()) {
  shared_->capacity = queue_capacity;
  register_emitter(this);
}

UdpEmitter::~UdpEmitter() {
  shutdown(std::chrono::milliseconds(0));
  unregister_emitter(this);
}

void UdpEmitter::set_address(const DaemonAddress& address) noexcept {
  std::lock_guard<std::mutex> lock(shared_->mutex);
  shared_->address = address;
}

void UdpEmitter::set_queue_capacity(std::size_t capacity) noexcept {
  std::lock_guard<std::mutex> lock(shared_->mutex);
  shared_->capacity = capacity;
}

void UdpEmitter::submit(std::shared_ptr<Entity> root) noexcept {
  Shared& shared = *shared_;
  std::unique_lock<std::mutex> lock(shared.mutex);
  if (shared.closed || shared.queue.size() >= shared.capacity) {
    bool closed = shared.closed;
    lock.unlock();
    dropped_queue_full_.fetch_add(1, std::memory_order_relaxed);
    logger_.log_limited(LogKind::kQueueFull, LogLevel::kWarn,
                        closed ? "dropped a document: the recorder is shut down"
                               : "dropped a document: the emitter queue is full");
    return;
  }
  shared.queue.push_back(std::move(root));
  ++shared.accepted;
  if (!shared.thread) {
    try {
      shared.thread = std::make_unique<std::thread>(&UdpEmitter::run, this);
    } catch (...) {
      // No thread (resource limits): the document stays queued until a later submission starts one.
      logger_.log_limited(LogKind::kSendError, LogLevel::kError, "cannot start the emitter thread");
      return;
    }
  }
  lock.unlock();
  shared.work_cv.notify_one();
}

bool UdpEmitter::flush(std::chrono::milliseconds timeout) noexcept {
  Shared& shared = *shared_;
  std::unique_lock<std::mutex> lock(shared.mutex);
  std::uint64_t target = shared.accepted;
  return shared.done_cv.wait_for(lock, timeout, [&] { return shared.completed >= target; });
}

void UdpEmitter::shutdown(std::chrono::milliseconds timeout) noexcept {
  std::unique_ptr<std::thread> thread;
  {
    std::lock_guard<std::mutex> lock(shared_->mutex);
    shared_->closed = true;
    shared_->stopping = true;
    shared_->drain_deadline = std::chrono::steady_clock::now() + timeout;
    thread = std::move(shared_->thread);
  }
  shared_->work_cv.notify_one();
  if (thread && thread->joinable()) thread->join();
}

Stats UdpEmitter::stats() const noexcept {
  Stats stats;
  stats.emitted = emitted_.load(std::memory_order_relaxed);
  stats.dropped_queue_full = dropped_queue_full_.load(std::memory_order_relaxed);
  stats.dropped_too_large = dropped_too_large_.load(std::memory_order_relaxed);
  stats.streamed = streamed_.load(std::memory_order_relaxed);
  stats.truncated = truncated_.load(std::memory_order_relaxed);
  stats.send_errors = send_errors_.load(std::memory_order_relaxed);
  stats.bytes_sent = bytes_sent_.load(std::memory_order_relaxed);
  stats.datagrams_sent = datagrams_sent_.load(std::memory_order_relaxed);
  return stats;
}

void UdpEmitter::run() noexcept {
  Shared& shared = *shared_;
  Socket socket;
  std::string buffer;
  std::vector<std::shared_ptr<Entity>> batch;
  for (;;) {
    DaemonAddress address;
    {
      std::unique_lock<std::mutex> lock(shared.mutex);
      shared.work_cv.wait(lock, [&] { return shared.stopping || !shared.queue.empty(); });
      if (shared.queue.empty()) return;  // stopping and drained
      if (shared.stopping && std::chrono::steady_clock::now() >= shared.drain_deadline) {
        // Out of time: what is left is dropped, and counted, so flush() callers are released.
        dropped_queue_full_.fetch_add(shared.queue.size(), std::memory_order_relaxed);
        shared.completed += shared.queue.size();
        shared.queue.clear();
        shared.done_cv.notify_all();
        return;
      }
      std::move(shared.queue.begin(), shared.queue.end(), std::back_inserter(batch));
      shared.queue.clear();
      address = shared.address;
    }

    auto now = std::chrono::steady_clock::now();
    if (!socket.connected_to || !(*socket.connected_to == address) || socket.broken ||
        now - socket.resolved_at >= kResolveInterval) {
      socket.resolved_at = now;
      socket.broken = false;
      boost::system::error_code ec;
      asio::ip::udp::resolver resolver(socket.io);
      auto endpoints = resolver.resolve(address.udp.host, std::to_string(address.udp.port), ec);
      if (ec || endpoints.empty()) {
        socket.connected_to.reset();
        logger_.log_limited(LogKind::kSendError, LogLevel::kWarn,
                            "cannot resolve the daemon address " + to_string(address.udp) + ": " +
                                (ec ? ec.message() : std::string("no address")));
      } else {
        asio::ip::udp::endpoint endpoint = *endpoints.begin();
        socket.socket.close(ec);
        socket.socket.open(endpoint.protocol(), ec);
        if (!ec) socket.socket.non_blocking(true, ec);
        if (!ec) socket.socket.connect(endpoint, ec);
        if (ec) {
          socket.connected_to.reset();
          logger_.log_limited(LogKind::kSendError, LogLevel::kWarn,
                              "cannot connect to the daemon at " + to_string(address.udp) + ": " +
                                  ec.message());
        } else {
          socket.connected_to = address;
        }
      }
    }

    for (auto& root : batch) {
      if (socket.connected_to) {
        send_document(socket, *root, buffer);
      } else {
        send_errors_.fetch_add(1, std::memory_order_relaxed);
      }
      root.reset();  // destroy the tree here, off the request path
    }
    {
      std::lock_guard<std::mutex> lock(shared.mutex);
      shared.completed += batch.size();
    }
    batch.clear();
    shared.done_cv.notify_all();
  }
}

void UdpEmitter::send_document(Socket& socket, const Entity& root, std::string& buffer) noexcept {
  try {
    auto plugins = plugins_.result();
    DocumentContext context;
    context.trace_id = root.tree->trace_id;
    if (plugins) {
      context.origin = &plugins->origin;
      context.plugin_aws = &plugins->aws;
    }
    buffer.assign(kDatagramHeader);
    write_document(buffer, root, context);
  } catch (const std::exception& e) {
    dropped_too_large_.fetch_add(1, std::memory_order_relaxed);
    logger_.log_limited(LogKind::kTooLarge, LogLevel::kError,
                        std::string("cannot serialize a document: ") + e.what());
    return;
  }
  if (buffer.size() > kDefaultMaxDatagramBytes) {
    dropped_too_large_.fetch_add(1, std::memory_order_relaxed);
    logger_.log_limited(LogKind::kTooLarge, LogLevel::kWarn,
                        std::string("dropped ") + (root.is_segment ? "segment" : "subsegment") +
                            " name=\"" + root.name + "\" trace_id=" + root.tree->trace_id + ": " +
                            std::to_string(buffer.size()) + " bytes exceeds max datagram " +
                            std::to_string(kDefaultMaxDatagramBytes) + " bytes");
    return;
  }
  boost::system::error_code ec;
  std::size_t sent = socket.socket.send(asio::buffer(buffer), 0, ec);
  if (ec) {
    send_errors_.fetch_add(1, std::memory_order_relaxed);
    socket.broken = true;
    logger_.log_limited(LogKind::kSendError, LogLevel::kWarn,
                        "cannot send to the daemon: " + ec.message());
    return;
  }
  emitted_.fetch_add(1, std::memory_order_relaxed);
  datagrams_sent_.fetch_add(1, std::memory_order_relaxed);
  bytes_sent_.fetch_add(sent, std::memory_order_relaxed);
}

void UdpEmitter::before_fork() noexcept { shared_->mutex.lock(); }

void UdpEmitter::after_fork_parent() noexcept { shared_->mutex.unlock(); }

void UdpEmitter::after_fork_child() noexcept {
  // The parent's thread does not exist here and its condition variables may hold phantom waiters:
  // abandon that state (a small one-time leak) and start clean. Queued documents belong to the
  // parent, which sends them.
  Shared* old = shared_.release();
  auto fresh = std::make_unique<Shared>();
  fresh->capacity = old->capacity;
  fresh->address = old->address;
  fresh->closed = old->closed;
  fresh->stopping = old->stopping;
  old->thread.release();  // NOLINT: the thread object refers to a thread of the parent
  old->mutex.unlock();
  shared_ = std::move(fresh);
}

}  // namespace xray::detail
