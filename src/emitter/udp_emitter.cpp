#include "emitter/udp_emitter.hpp"

#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <iterator>
#include <set>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include "emitter/size_ladder.hpp"
#include "emitter/token_bucket.hpp"
#include "model/serializer.hpp"
#include "net/resolver.hpp"

namespace xray::detail {
namespace asio = boost::asio;

struct UdpEmitter::Socket {
  asio::io_context io;
  asio::ip::udp::socket socket{io};
  std::optional<DaemonAddress> connected_to;
  std::optional<DaemonAddress> resolved_for;  // the address the last attempt was for
  std::chrono::steady_clock::time_point resolved_at{};
  std::chrono::steady_clock::time_point next_attempt{};  // no resolution before this
  int failures = 0;     // consecutive failed resolutions, for the backoff
  bool broken = false;  // a send failed: re-resolve (no sooner than next_attempt)
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
  std::unique_ptr<std::thread> thread;
  // When shutdown() gives up sending, as steady_clock nanoseconds; the maximum until shutdown.
  // Atomic: a pending DNS wait and the sending loop read it without the mutex.
  std::atomic<std::int64_t> drain_deadline_ns{INT64_MAX};

  std::chrono::steady_clock::time_point drain_deadline() const {
    return std::chrono::steady_clock::time_point(
        std::chrono::nanoseconds(drain_deadline_ns.load(std::memory_order_relaxed)));
  }
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

UdpEmitter::UdpEmitter(Logger& logger, AdditionsSource additions, std::size_t queue_capacity)
    : logger_(logger), additions_(std::move(additions)), shared_(std::make_unique<Shared>()) {
  shared_->capacity = queue_capacity;
  register_emitter(this);
}

UdpEmitter::~UdpEmitter() {
  shutdown(std::chrono::milliseconds(0));
  unregister_emitter(this);
}

void UdpEmitter::configure(const EmitterOptions& options) noexcept {
  set_address(options.address);
  set_queue_capacity(options.queue_capacity);
  set_max_datagram_bytes(options.max_datagram_bytes);
  set_pacing(options.datagrams_per_second, options.burst);
}

void UdpEmitter::set_address(const DaemonAddress& address) noexcept {
  std::lock_guard<std::mutex> lock(shared_->mutex);
  shared_->address = address;
}

void UdpEmitter::set_queue_capacity(std::size_t capacity) noexcept {
  std::lock_guard<std::mutex> lock(shared_->mutex);
  shared_->capacity = capacity;
}

bool UdpEmitter::set_max_datagram_bytes(std::size_t bytes) noexcept {
  if (bytes < kMinDatagramBytes || bytes > kMaxDatagramBytes) return false;
  max_datagram_bytes_.store(bytes, std::memory_order_relaxed);
  return true;
}

void UdpEmitter::set_pacing(double datagrams_per_second, std::size_t burst) noexcept {
  pacing_rate_.store(datagrams_per_second > 0 ? datagrams_per_second : 0, std::memory_order_relaxed);
  pacing_burst_.store(std::max<std::size_t>(burst, 1), std::memory_order_relaxed);
  pacing_generation_.fetch_add(1, std::memory_order_release);
}

void UdpEmitter::set_force_plain_send(bool plain) noexcept {
  force_plain_send_.store(plain, std::memory_order_relaxed);
}

void UdpEmitter::submit(std::shared_ptr<Entity> root) noexcept {
  Shared& shared = *shared_;
  std::unique_lock<std::mutex> lock(shared.mutex);
  if (shared.closed || shared.queue.size() >= shared.capacity) {
    bool closed = shared.closed;
    lock.unlock();
    (closed ? dropped_at_shutdown_ : dropped_queue_full_).fetch_add(1, std::memory_order_relaxed);
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
  // No wake-up (a futex system call) on the request path: the emitter thread looks at the queue
  // every kIdlePoll on its own. Only a queue filling up, where waiting would drop documents, is
  // worth waking it early for.
  bool filling = shared.queue.size() >= shared.capacity / 2;
  lock.unlock();
  if (filling) shared.work_cv.notify_one();
}

bool UdpEmitter::flush(std::chrono::milliseconds timeout) noexcept {
  Shared& shared = *shared_;
  std::unique_lock<std::mutex> lock(shared.mutex);
  std::uint64_t target = shared.accepted;
  shared.work_cv.notify_one();  // don't wait for the emitter's next look at the queue
  return shared.done_cv.wait_for(lock, timeout, [&] { return shared.completed >= target; });
}

void UdpEmitter::shutdown(std::chrono::milliseconds timeout) noexcept {
  std::unique_ptr<std::thread> thread;
  {
    std::lock_guard<std::mutex> lock(shared_->mutex);
    shared_->closed = true;
    shared_->stopping = true;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    shared_->drain_deadline_ns.store(
        std::chrono::duration_cast<std::chrono::nanoseconds>(deadline.time_since_epoch()).count(),
        std::memory_order_relaxed);
    thread = std::move(shared_->thread);
  }
  shared_->work_cv.notify_one();
  if (thread && thread->joinable()) thread->join();
}

Stats UdpEmitter::stats() const noexcept {
  Stats stats;
  stats.emitted = emitted_.load(std::memory_order_relaxed);
  stats.dropped_queue_full = dropped_queue_full_.load(std::memory_order_relaxed);
  stats.dropped_at_shutdown = dropped_at_shutdown_.load(std::memory_order_relaxed);
  stats.dropped_too_large = dropped_too_large_.load(std::memory_order_relaxed);
  stats.streamed = streamed_.load(std::memory_order_relaxed);
  stats.truncated = truncated_.load(std::memory_order_relaxed);
  stats.send_errors = send_errors_.load(std::memory_order_relaxed);
  stats.bytes_sent = bytes_sent_.load(std::memory_order_relaxed);
  stats.datagrams_sent = datagrams_sent_.load(std::memory_order_relaxed);
  return stats;
}

namespace {

// Trees taken from the queue per pass, so a shutdown deadline is checked at least every few
// hundred documents even when pacing slows sending down.
constexpr std::size_t kMaxTreesPerPass = 256;
// Paced sends wait for at least this many tokens, so the thread wakes once per group.
constexpr std::size_t kPacingGroup = 8;
constexpr int kMaxEagainRetries = 3;

bool is_would_block(int error) { return error == EAGAIN || error == EWOULDBLOCK; }

}  // namespace

struct UdpEmitter::Batch {
  std::array<std::string, kBatchSize> slots;  // reused: capacity grows to the largest datagram
  // Whether a slot holds the first datagram of a document the recorder handed over: `emitted`
  // counts documents, once each however many datagrams the size ladder made of them.
  std::array<bool, kBatchSize> first_of_document{};
  std::size_t count = 0;
  std::array<mmsghdr, kBatchSize> headers{};
  std::array<iovec, kBatchSize> vectors{};
  TokenBucket bucket;
  std::uint64_t pacing_generation = ~std::uint64_t{0};
  bool plain = false;
};

void UdpEmitter::run() noexcept {
  Shared& shared = *shared_;
  Socket socket;
  SizeLadder ladder(logger_);
  std::unique_ptr<Batch> batch_holder;
  try {
    batch_holder = std::make_unique<Batch>();
  } catch (...) {
    logger_.log_limited(LogKind::kSendError, LogLevel::kError, "emitter thread out of memory");
  }
  std::vector<std::shared_ptr<Entity>> trees;
  for (;;) {
    DaemonAddress address;
    {
      std::unique_lock<std::mutex> lock(shared.mutex);
      while (!shared.stopping && shared.queue.empty()) shared.work_cv.wait_for(lock, kIdlePoll);
      if (shared.queue.empty()) return;  // stopping and drained
      if (!batch_holder || past_drain_deadline()) {
        // Out of time: what is left is dropped, and counted, so flush() callers are released.
        (batch_holder ? dropped_at_shutdown_ : dropped_queue_full_)
            .fetch_add(shared.queue.size(), std::memory_order_relaxed);
        shared.completed += shared.queue.size();
        shared.queue.clear();
        shared.done_cv.notify_all();
        return;
      }
      address = shared.address;
    }

    // Resolve and connect before taking documents from the queue.
    auto now = std::chrono::steady_clock::now();
    const bool address_changed = !socket.resolved_for || !(*socket.resolved_for == address);
    const bool wanted = address_changed || !socket.connected_to || socket.broken ||
                        now - socket.resolved_at >= kResolveInterval;
    if (wanted && (address_changed || now >= socket.next_attempt)) connect(socket, address);
    if (!socket.connected_to) {
      // No address for the daemon (its name does not resolve): the documents stay queued until the
      // next attempt, so they go out if the name comes back, and while the queue is full request
      // threads drop new ones at the door (their cheapest path) instead of handing each one to a
      // thread that could only count it lost. Shutdown's deadline still ends the wait.
      std::unique_lock<std::mutex> lock(shared.mutex);
      for (;;) {
        // Recomputed after every wake-up: shutdown() moves the deadline forward.
        const auto until = std::min(socket.next_attempt, shared.drain_deadline());
        if (std::chrono::steady_clock::now() >= until) break;
        shared.work_cv.wait_until(lock, until);
      }
      continue;
    }

    {
      std::lock_guard<std::mutex> lock(shared.mutex);
      std::size_t take = std::min(shared.queue.size(), kMaxTreesPerPass);
      try {
        trees.assign(std::make_move_iterator(shared.queue.begin()),
                     std::make_move_iterator(shared.queue.begin() + static_cast<std::ptrdiff_t>(take)));
      } catch (...) {
        take = 0;  // out of memory: retry on the next pass
      }
      shared.queue.erase(shared.queue.begin(), shared.queue.begin() + static_cast<std::ptrdiff_t>(take));
    }
    Batch& batch = *batch_holder;

    now = std::chrono::steady_clock::now();
    std::uint64_t generation = pacing_generation_.load(std::memory_order_acquire);
    if (generation != batch.pacing_generation) {
      batch.pacing_generation = generation;
      batch.bucket.configure(pacing_rate_.load(std::memory_order_relaxed),
                             static_cast<double>(pacing_burst_.load(std::memory_order_relaxed)), now);
    }
    batch.plain = force_plain_send_.load(std::memory_order_relaxed);
    const std::size_t max_bytes = max_datagram_bytes_.load(std::memory_order_relaxed);

    std::shared_ptr<const DocumentAdditions> plugins;
    if (additions_) {
      try {
        plugins = additions_();
      } catch (...) {
        // Nothing added to this pass's documents.
      }
    }
    bool first_datagram = true;
    const SizeLadder::Sink sink = [&](std::string& datagram) {
      batch.first_of_document[batch.count] = first_datagram;
      first_datagram = false;
      batch.slots[batch.count++].swap(datagram);
      if (batch.count == kBatchSize) send_batch(socket, batch);
    };
    for (auto& root : trees) {
      if (past_drain_deadline()) {
        dropped_at_shutdown_.fetch_add(1, std::memory_order_relaxed);
        root.reset();
        continue;
      }
      DocumentContext context;
      context.trace_id = root->tree->trace_id;
      if (plugins) {
        context.origin = &plugins->origin;
        context.plugin_aws = &plugins->aws;
      }
      // Keeps the trace id alive while the ladder destroys the tree's entities.
      std::shared_ptr<EntityTree> tree = root->tree;
      first_datagram = true;
      LadderCounters counters;
      ladder.run(std::move(root), context, max_bytes, sink, counters);
      streamed_.fetch_add(counters.streamed, std::memory_order_relaxed);
      truncated_.fetch_add(counters.truncated, std::memory_order_relaxed);
      dropped_too_large_.fetch_add(counters.dropped_too_large, std::memory_order_relaxed);
    }
    if (batch.count > 0) send_batch(socket, batch);
    {
      std::lock_guard<std::mutex> lock(shared.mutex);
      shared.completed += trees.size();
    }
    trees.clear();
    shared.done_cv.notify_all();
  }
}

bool UdpEmitter::past_drain_deadline() const noexcept {
  return std::chrono::steady_clock::now() >= shared_->drain_deadline();
}

void UdpEmitter::connect(Socket& socket, const DaemonAddress& address) noexcept {
  const auto started = std::chrono::steady_clock::now();
  socket.resolved_for = address;
  socket.resolved_at = started;
  socket.broken = false;
  // A name that keeps failing is retried with backoff (kMinResolveInterval doubling up to
  // kMaxResolveBackoff), never once per pass: a dead DNS must not become a lookup storm.
  const auto backoff = std::min<std::chrono::steady_clock::duration>(
      kMinResolveInterval * (1 << std::min(socket.failures, 8)), kMaxResolveBackoff);
  auto give_up = [this] { return past_drain_deadline(); };
  Resolution resolution =
      resolve_host(address.udp.host, SocketKind::kDatagram, started + kResolveTimeout, give_up);
  boost::system::error_code ec;
  asio::ip::address ip;
  if (resolution.ok()) ip = asio::ip::make_address(resolution.addresses.front(), ec);
  if (!resolution.ok() || ec) {
    ++socket.failures;
    socket.next_attempt = std::chrono::steady_clock::now() + backoff;
    // Keep a connected socket: if the name stops resolving, the last address is the best guess.
    if (!socket.connected_to || !(socket.connected_to->udp == address.udp)) socket.connected_to.reset();
    logger_.log_limited(LogKind::kSendError, LogLevel::kWarn,
                        "cannot resolve the daemon address " + to_string(address.udp) + ": " +
                            (resolution.ok() ? ec.message() : resolution.error));
    return;
  }
  socket.failures = 0;
  socket.next_attempt = std::chrono::steady_clock::now() + kMinResolveInterval;
  asio::ip::udp::endpoint endpoint(ip, address.udp.port);
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

void UdpEmitter::send_batch(Socket& socket, Batch& batch) noexcept {
  const int fd = socket.socket.native_handle();
  std::size_t next = 0;
  int eagain_retries = 0;
  while (next < batch.count) {
    const std::size_t remaining = batch.count - next;
    auto now = std::chrono::steady_clock::now();
    std::size_t granted = batch.bucket.take(remaining, kPacingGroup, now);
    if (granted == 0) {
      if (past_drain_deadline()) {
        // Shutting down and out of time: what pacing still holds back is dropped, and counted.
        std::uint64_t documents = 0;
        for (std::size_t i = next; i < batch.count; ++i) documents += batch.first_of_document[i] ? 1 : 0;
        dropped_at_shutdown_.fetch_add(documents, std::memory_order_relaxed);
        break;
      }
      std::this_thread::sleep_for(batch.bucket.time_until(remaining, kPacingGroup, now));
      continue;
    }
    int sent = 0;
    int error = 0;
    if (batch.plain) {
      // One datagram per call; stop at the first failure so it is handled like sendmmsg's.
      for (std::size_t i = 0; i < granted; ++i) {
        const std::string& datagram = batch.slots[next + i];
        ssize_t n = ::send(fd, datagram.data(), datagram.size(), MSG_NOSIGNAL);
        if (n < 0) {
          error = errno;
          break;
        }
        ++sent;
      }
    } else {
      for (std::size_t i = 0; i < granted; ++i) {
        std::string& datagram = batch.slots[next + i];
        batch.vectors[i].iov_base = datagram.data();
        batch.vectors[i].iov_len = datagram.size();
        batch.headers[i] = mmsghdr{};
        batch.headers[i].msg_hdr.msg_iov = &batch.vectors[i];
        batch.headers[i].msg_hdr.msg_iovlen = 1;
      }
      int n = ::sendmmsg(fd, batch.headers.data(), static_cast<unsigned>(granted), MSG_NOSIGNAL);
      if (n < 0) {
        error = errno;
      } else {
        sent = n;
      }
    }
    std::uint64_t bytes = 0;
    std::uint64_t documents = 0;
    for (int i = 0; i < sent; ++i) {
      bytes += batch.slots[next + static_cast<std::size_t>(i)].size();
      documents += batch.first_of_document[next + static_cast<std::size_t>(i)] ? 1 : 0;
    }
    if (sent > 0) {
      emitted_.fetch_add(documents, std::memory_order_relaxed);
      datagrams_sent_.fetch_add(static_cast<std::uint64_t>(sent), std::memory_order_relaxed);
      bytes_sent_.fetch_add(bytes, std::memory_order_relaxed);
      next += static_cast<std::size_t>(sent);
      eagain_retries = 0;
      continue;  // a partial sendmmsg: the rest goes in the next call
    }
    if (error == EINTR) continue;
    if (is_would_block(error)) {
      pollfd writable{fd, POLLOUT, 0};
      if (++eagain_retries <= kMaxEagainRetries &&
          ::poll(&writable, 1, static_cast<int>(kWritableWait.count())) > 0) {
        continue;
      }
    }
    next += handle_send_error(socket, batch, next, error);
  }
  batch.count = 0;
}

std::size_t UdpEmitter::handle_send_error(Socket& socket, Batch& batch, std::size_t first,
                                          int error) noexcept {
  const std::string message = boost::system::error_code(error, boost::system::system_category()).message();
  if (error == EMSGSIZE) {
    dropped_too_large_.fetch_add(1, std::memory_order_relaxed);
    logger_.log_limited(LogKind::kTooLarge, LogLevel::kWarn,
                        "dropped a datagram of " + std::to_string(batch.slots[first].size()) +
                            " bytes: the OS refused it as too large (" + message +
                            "); lower the max datagram size");
    return 1;
  }
  socket.broken = true;  // re-resolve and reconnect before the next pass
  if (is_would_block(error)) {
    // The socket stayed full past the wait: the rest of the batch is lost.
    std::size_t lost = batch.count - first;
    send_errors_.fetch_add(lost, std::memory_order_relaxed);
    logger_.log_limited(LogKind::kSendError, LogLevel::kWarn,
                        "cannot send to the daemon: the socket buffer stayed full; dropped " +
                            std::to_string(lost) + " datagrams");
    return lost;
  }
  // ECONNREFUSED (a pending ICMP error), ENETUNREACH, ...: this datagram is lost, the rest retried.
  send_errors_.fetch_add(1, std::memory_order_relaxed);
  logger_.log_limited(LogKind::kSendError, LogLevel::kWarn, "cannot send to the daemon: " + message);
  return 1;
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
  fresh->drain_deadline_ns.store(old->drain_deadline_ns.load(std::memory_order_relaxed),
                                 std::memory_order_relaxed);
  old->thread.release();  // NOLINT: the thread object refers to a thread of the parent
  old->mutex.unlock();
  shared_ = std::move(fresh);
}

}  // namespace xray::detail
