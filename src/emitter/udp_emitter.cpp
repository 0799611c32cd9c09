#include "emitter/udp_emitter.hpp"

#include <pthread.h>

#include <algorithm>
#include <array>
#include <iterator>
#include <set>
#include <vector>

#include "emitter/size_ladder.hpp"
#include "emitter/token_bucket.hpp"
#include "emitter/udp_transport.hpp"
#include "model/serializer.hpp"

namespace xray::detail {

namespace {

// What request threads read before taking the lock (Shared::door).
enum Door : std::uint8_t {
  kOpen,    // take the lock and queue the document (if it still fits)
  kFull,    // the last document did not fit: refuse without the lock until the emitter takes some
  kClosed,  // shut down: refuse
};

std::size_t default_capacity_bytes(std::size_t capacity) {
  return capacity > SIZE_MAX / kTypicalDocumentBytes ? SIZE_MAX : capacity * kTypicalDocumentBytes;
}

}  // namespace

struct QueuedDocument {
  std::shared_ptr<Entity> root;
  std::size_t bytes = 0;  // what it is charged against capacity_bytes
};

struct UdpEmitter::Shared {
  // Read by every submit, written a few times per emitter pass (under mutex): on a cache line of
  // its own, so the writes to the queue's state next to it do not invalidate it for the readers.
  alignas(64) std::atomic<std::uint8_t> door{kOpen};
  alignas(64) std::mutex mutex;
  std::condition_variable work_cv;
  std::condition_variable done_cv;
  // Guarded by mutex.
  std::deque<QueuedDocument> queue;
  std::size_t capacity = kDefaultQueueCapacity;
  std::size_t capacity_bytes = default_capacity_bytes(kDefaultQueueCapacity);
  std::size_t charged_bytes = 0;  // queued documents, and those the emitter thread holds
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
  static const int registered =
      pthread_atfork(&prepare_fork, &parent_after_fork, &child_after_fork);
  (void)registered;
  std::lock_guard<std::mutex> lock(g_registry_mutex);
  registry().insert(emitter);
}

void unregister_emitter(UdpEmitter* emitter) {
  std::lock_guard<std::mutex> lock(g_registry_mutex);
  registry().erase(emitter);
}

}  // namespace

UdpEmitter::UdpEmitter(Logger& logger, AdditionsSource additions, std::size_t queue_capacity,
                       TransportFactory transport)
    : logger_(logger),
      additions_(std::move(additions)),
      transport_factory_(std::move(transport)),
      shared_(std::make_unique<Shared>()) {
  shared_->capacity = queue_capacity;
  shared_->capacity_bytes = default_capacity_bytes(queue_capacity);
  register_emitter(this);
}

UdpEmitter::~UdpEmitter() {
  shutdown(std::chrono::milliseconds(0));
  unregister_emitter(this);
}

void UdpEmitter::configure(const EmitterOptions& options) noexcept {
  set_address(options.address);
  set_queue_capacity(options.queue_capacity, options.queue_capacity_bytes);
  set_max_datagram_bytes(options.max_datagram_bytes);
  set_pacing(options.datagrams_per_second, options.burst);
}

void UdpEmitter::set_address(const DaemonAddress& address) noexcept {
  std::lock_guard<std::mutex> lock(shared_->mutex);
  shared_->address = address;
}

void UdpEmitter::set_queue_capacity(std::size_t capacity, std::size_t capacity_bytes) noexcept {
  std::lock_guard<std::mutex> lock(shared_->mutex);
  shared_->capacity = capacity;
  shared_->capacity_bytes = capacity_bytes != 0 ? capacity_bytes : default_capacity_bytes(capacity);
  // Let the next document try the new bounds.
  if (shared_->door.load(std::memory_order_relaxed) == kFull) {
    shared_->door.store(kOpen, std::memory_order_relaxed);
  }
}

namespace {

std::size_t subtree_bytes(const Entity& entity) noexcept {
  std::size_t bytes = UdpEmitter::kEntityBytes + entity.approximate_bytes;
  for (const auto& child : entity.children) {
    if (child) bytes += subtree_bytes(*child);
  }
  return bytes;
}

}  // namespace

std::size_t UdpEmitter::document_bytes(const Entity& root) noexcept {
  // Recursive like the tree's own destruction and serialization: as deep as the tree.
  return kDocumentBaseBytes + subtree_bytes(root);
}

bool UdpEmitter::set_max_datagram_bytes(std::size_t bytes) noexcept {
  if (bytes < kMinDatagramBytes || bytes > kMaxDatagramBytes) return false;
  max_datagram_bytes_.store(bytes, std::memory_order_relaxed);
  return true;
}

void UdpEmitter::set_pacing(double datagrams_per_second, std::size_t burst) noexcept {
  pacing_rate_.store(datagrams_per_second > 0 ? datagrams_per_second : 0,
                     std::memory_order_relaxed);
  pacing_burst_.store(std::max<std::size_t>(burst, 1), std::memory_order_relaxed);
  pacing_generation_.fetch_add(1, std::memory_order_release);
}

void UdpEmitter::set_force_plain_send(bool plain) noexcept {
  force_plain_send_.store(plain, std::memory_order_relaxed);
}

void UdpEmitter::refuse(bool closed) noexcept {
  if (closed) {
    dropped_at_shutdown_.fetch_add(1, std::memory_order_relaxed);
    logger_.log_limited(LogKind::kQueueFull, LogLevel::kWarn,
                        "dropped a document: the recorder is shut down");
  } else {
    // The drop path of a request under overload: a per-thread slot, no lock, no log (the emitter
    // thread reports drops).
    dropped_queue_full_.add(1);
  }
}

void UdpEmitter::submit(std::shared_ptr<Entity> root) noexcept {
  Shared& shared = *shared_;
  const std::uint8_t door = shared.door.load(std::memory_order_relaxed);
  if (door != kOpen) {
    refuse(door == kClosed);
    return;
  }
  const std::size_t bytes = root ? document_bytes(*root) : 0;
  std::unique_lock<std::mutex> lock(shared.mutex);
  if (shared.closed) {
    lock.unlock();
    refuse(true);
    return;
  }
  const bool fits = shared.queue.size() < shared.capacity &&
                    (shared.charged_bytes == 0 ||
                     (shared.charged_bytes <= shared.capacity_bytes &&
                      bytes <= shared.capacity_bytes - shared.charged_bytes));
  if (!fits) {
    shared.door.store(kFull, std::memory_order_relaxed);
    lock.unlock();
    refuse(false);
    return;
  }
  try {
    shared.queue.push_back(QueuedDocument{std::move(root), bytes});
  } catch (...) {
    lock.unlock();
    refuse(false);  // out of memory: dropped like a document that does not fit
    return;
  }
  shared.charged_bytes += bytes;
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
    shared_->door.store(kClosed, std::memory_order_relaxed);
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
  stats.dropped_queue_full = dropped_queue_full_.sum();
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
// Datagram buffers larger than this are released after sending (see send_batch).
constexpr std::size_t kKeptDatagramCapacity = 8 * 1024;

}  // namespace

struct UdpEmitter::Batch {
  std::array<std::string, kBatchSize> slots;  // reused: capacity grows to the largest datagram
  // Whether a slot holds the first datagram of a document the recorder handed over: `emitted`
  // counts documents, once each however many datagrams the size ladder made of them.
  std::array<bool, kBatchSize> first_of_document{};
  std::size_t count = 0;
  TokenBucket bucket;
  std::uint64_t pacing_generation = ~std::uint64_t{0};
};

void UdpEmitter::run() noexcept {
  Shared& shared = *shared_;
  SizeLadder ladder(logger_);
  std::unique_ptr<Batch> batch_holder;
  std::unique_ptr<DatagramTransport> transport;
  try {
    batch_holder = std::make_unique<Batch>();
    transport = transport_factory_ ? transport_factory_()
                                   : std::make_unique<UdpTransport>(logger_, &force_plain_send_);
  } catch (...) {
    logger_.log_limited(LogKind::kSendError, LogLevel::kError, "emitter thread out of memory");
  }
  if (!transport) batch_holder.reset();  // nothing to send with: documents are dropped, counted
  const std::function<bool()> give_up = [this] { return past_drain_deadline(); };
  std::vector<QueuedDocument> trees;
  for (;;) {
    report_drops();
    DaemonAddress address;
    {
      std::unique_lock<std::mutex> lock(shared.mutex);
      while (!shared.stopping && shared.queue.empty()) shared.work_cv.wait_for(lock, kIdlePoll);
      if (shared.queue.empty()) return;  // stopping and drained
      if (!batch_holder || past_drain_deadline()) {
        // Out of time: what is left is dropped, and counted, so flush() callers are released.
        if (batch_holder) {
          dropped_at_shutdown_.fetch_add(shared.queue.size(), std::memory_order_relaxed);
        } else {
          dropped_queue_full_.add(shared.queue.size());
        }
        shared.completed += shared.queue.size();
        shared.queue.clear();
        shared.charged_bytes = 0;
        shared.done_cv.notify_all();
        return;
      }
      address = shared.address;
    }

    // Reach the daemon before taking documents from the queue.
    if (!transport->ready(address, give_up)) {
      // No address for the daemon (its name does not resolve): the documents stay queued until the
      // next attempt, so they go out if the name comes back, and while the queue is full request
      // threads drop new ones at the door (their cheapest path) instead of handing each one to a
      // thread that could only count it lost. Shutdown's deadline still ends the wait.
      const auto retry_at = transport->retry_at();
      std::unique_lock<std::mutex> lock(shared.mutex);
      for (;;) {
        // Recomputed after every wake-up: shutdown() moves the deadline forward.
        const auto until = std::min(retry_at, shared.drain_deadline());
        const auto now = std::chrono::steady_clock::now();
        if (now >= until) break;
        // At least once a second, so drops at the (full) queue are reported while the name fails.
        shared.work_cv.wait_until(lock, std::min(until, now + kDropReportInterval));
        lock.unlock();
        report_drops();
        lock.lock();
      }
      continue;
    }

    {
      std::lock_guard<std::mutex> lock(shared.mutex);
      const std::size_t take = std::min(shared.queue.size(), kMaxTreesPerPass);
      // `trees` keeps its capacity from pass to pass: after the first pass this never allocates.
      try {
        trees.reserve(kMaxTreesPerPass);
        for (std::size_t i = 0; i < take; ++i) {
          trees.push_back(std::move(shared.queue.front()));
          shared.queue.pop_front();
        }
      } catch (...) {
        // Out of memory: what was taken is sent, the rest waits for the next pass.
      }
      // Room for more documents (their bytes stay charged until sent: the slow path checks them).
      if (shared.door.load(std::memory_order_relaxed) == kFull &&
          shared.queue.size() < shared.capacity) {
        shared.door.store(kOpen, std::memory_order_relaxed);
      }
    }
    Batch& batch = *batch_holder;

    const auto now = std::chrono::steady_clock::now();
    std::uint64_t generation = pacing_generation_.load(std::memory_order_acquire);
    if (generation != batch.pacing_generation) {
      batch.pacing_generation = generation;
      batch.bucket.configure(pacing_rate_.load(std::memory_order_relaxed),
                             static_cast<double>(pacing_burst_.load(std::memory_order_relaxed)),
                             now);
    }
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
      if (batch.count == kBatchSize) send_batch(*transport, batch);
    };
    std::size_t pass_bytes = 0;
    LadderCounters counters;
    for (auto& queued : trees) {
      pass_bytes += queued.bytes;
      std::shared_ptr<Entity>& root = queued.root;
      // Only shutdown sets a deadline: until then, no clock read per document.
      if (shared.drain_deadline_ns.load(std::memory_order_relaxed) != INT64_MAX &&
          past_drain_deadline()) {
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
      ladder.run(std::move(root), context, max_bytes, sink, counters);
    }
    if (batch.count > 0) send_batch(*transport, batch);
    // Once per pass rather than per document: the counters only ever grow.
    if (counters.streamed) streamed_.fetch_add(counters.streamed, std::memory_order_relaxed);
    if (counters.truncated) truncated_.fetch_add(counters.truncated, std::memory_order_relaxed);
    if (counters.dropped_too_large) {
      dropped_too_large_.fetch_add(counters.dropped_too_large, std::memory_order_relaxed);
    }
    {
      std::lock_guard<std::mutex> lock(shared.mutex);
      shared.completed += trees.size();
      shared.charged_bytes -= std::min(pass_bytes, shared.charged_bytes);
      if (shared.door.load(std::memory_order_relaxed) == kFull) {
        shared.door.store(kOpen, std::memory_order_relaxed);
      }
    }
    trees.clear();
    shared.done_cv.notify_all();
  }
}

void UdpEmitter::report_drops() noexcept {
  const std::uint64_t dropped = dropped_queue_full_.sum();
  if (dropped == reported_drops_) return;
  reported_drops_ = dropped;
  std::size_t capacity = 0;
  std::size_t capacity_bytes = 0;
  {
    std::lock_guard<std::mutex> lock(shared_->mutex);
    capacity = shared_->capacity;
    capacity_bytes = shared_->capacity_bytes;
  }
  try {
    logger_.log_limited(LogKind::kQueueFull, LogLevel::kWarn,
                        "dropped documents: the emitter queue is full (" + std::to_string(dropped) +
                            " dropped so far; queue_capacity " + std::to_string(capacity) +
                            ", queue_capacity_bytes " + std::to_string(capacity_bytes) + ")");
  } catch (...) {
    // Out of memory for the message: the drops are still counted in stats().
  }
}

bool UdpEmitter::past_drain_deadline() const noexcept {
  return std::chrono::steady_clock::now() >= shared_->drain_deadline();
}

void UdpEmitter::send_batch(DatagramTransport& transport, Batch& batch) noexcept {
  std::size_t next = 0;
  auto documents_in = [&batch](std::size_t first, std::size_t count) {
    std::uint64_t documents = 0;
    for (std::size_t i = first; i < first + count; ++i)
      documents += batch.first_of_document[i] ? 1 : 0;
    return documents;
  };
  while (next < batch.count) {
    const std::size_t remaining = batch.count - next;
    const auto now = std::chrono::steady_clock::now();
    const std::size_t granted = batch.bucket.take(remaining, kPacingGroup, now);
    if (granted == 0) {
      if (past_drain_deadline()) {
        // Shutting down and out of time: what pacing still holds back is dropped, and counted.
        dropped_at_shutdown_.fetch_add(documents_in(next, remaining), std::memory_order_relaxed);
        break;
      }
      std::this_thread::sleep_for(batch.bucket.time_until(remaining, kPacingGroup, now));
      continue;
    }
    const SendReport report = transport.send(&batch.slots[next], granted);
    if (report.sent > 0) {
      std::uint64_t bytes = 0;
      for (std::size_t i = next; i < next + report.sent; ++i) bytes += batch.slots[i].size();
      emitted_.fetch_add(documents_in(next, report.sent), std::memory_order_relaxed);
      datagrams_sent_.fetch_add(report.sent, std::memory_order_relaxed);
      bytes_sent_.fetch_add(bytes, std::memory_order_relaxed);
    }
    next += report.sent;
    // The destination stayed full: the rest of the batch would wait the same way, and is lost.
    const std::size_t lost = report.stalled ? batch.count - next : report.lost;
    (report.too_large ? dropped_too_large_ : send_errors_)
        .fetch_add(lost, std::memory_order_relaxed);
    next += lost;
    if (report.sent + report.lost == 0 && next < batch.count) {
      // A transport that makes no progress breaks its contract: count the rest lost, move on.
      send_errors_.fetch_add(batch.count - next, std::memory_order_relaxed);
      break;
    }
  }
  // A slot keeps its capacity for the next datagram, unless a large document grew it: 32 slots of
  // 64 KB would otherwise stay allocated for good after one burst of large documents.
  for (std::size_t i = 0; i < batch.count; ++i) {
    if (batch.slots[i].capacity() > kKeptDatagramCapacity) std::string().swap(batch.slots[i]);
  }
  batch.count = 0;
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
  fresh->capacity_bytes = old->capacity_bytes;
  fresh->door.store(old->closed ? kClosed : kOpen, std::memory_order_relaxed);
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
