// Test fixture: a fake X-Ray daemon that receives segment datagrams on loopback UDP and checks
// them against the wire spec (§1.1, §1.3, §2) more strictly than the real daemon does.
//
// Contract:
//   - Binds 127.0.0.1:0 (or [::1]:0) so tests never collide on a port; `address()` gives the
//     "host:port" string to hand to the SDK as its daemon address.
//   - Each datagram must be exactly `{"format":"json","version":1}` "\n" followed by one JSON
//     object and nothing else. The document is validated recursively (name, id, trace_id,
//     start_time, end_time xor in_progress, type "subsegment" => trace_id and parent_id, ...).
//     Valid documents are kept parsed; anything else is kept as an error string that contains the
//     problem and the raw bytes. Tests should end with `EXPECT_THAT(daemon.errors(), IsEmpty())`.
//   - A receive thread runs from construction to destruction; the destructor stops it within one
//     poll interval (~10 ms) and joins it.
//   - The socket asks for an 8 MiB receive buffer (loopback UDP drops silently when the buffer is
//     full); `receive_buffer_bytes()` says what the kernel actually granted.
//
// Example:
//   xray::testing::FakeDaemon daemon;                       // IPv4
//   config.daemon_address = daemon.address();               // "127.0.0.1:40123"
//   ... run code that emits two segments ...
//   ASSERT_TRUE(daemon.wait_for_documents(2, std::chrono::seconds(5)));
//   auto entities = xray::testing::flatten(daemon.documents());
//   const nlohmann::json* db = xray::testing::find_by_name(entities, "DynamoDB");
//   EXPECT_THAT(daemon.errors(), ::testing::IsEmpty());
//
// IPv6: construction throws `LoopbackUnavailable` when ::1 cannot be bound, so tests can
//   try { daemon.emplace(IpVersion::kV6); } catch (const LoopbackUnavailable&) { GTEST_SKIP(); }
//
// Thread safety: thread-safe. Every public member may be called concurrently from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace xray::testing {

enum class IpVersion { kV4, kV6 };

// Thrown by the FakeDaemon constructor when the loopback address of the requested family cannot
// be used (no IPv6 in the kernel or ::1 not configured). Other socket failures throw
// std::system_error, which should fail the test rather than skip it.
class LoopbackUnavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One valid document as received.
struct ReceivedDocument {
  nlohmann::json document;
  std::size_t datagram_bytes = 0;  // header + "\n" + body, as it came off the wire
};

// A fake daemon listening on loopback UDP. Not copyable or movable: the receive thread holds
// `this`.
//
// Thread safety: thread-safe.
class FakeDaemon {
 public:
  static constexpr int kRequestedReceiveBufferBytes = 8 * 1024 * 1024;

  // Binds (to `port`, or any free port when 0), sizes the receive buffer and starts the receive
  // thread. Throws LoopbackUnavailable (see above) or std::system_error.
  explicit FakeDaemon(IpVersion version = IpVersion::kV4, std::uint16_t port = 0);
  ~FakeDaemon();

  FakeDaemon(const FakeDaemon&) = delete;
  FakeDaemon& operator=(const FakeDaemon&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  // "127.0.0.1:<port>" or "[::1]:<port>", the syntax of AWS_XRAY_DAEMON_ADDRESS (§1.3).
  std::string address() const;
  // Effective SO_RCVBUF as read back from the kernel (Linux reports twice the granted payload).
  int receive_buffer_bytes() const noexcept { return receive_buffer_bytes_; }

  // Block until at least `count` valid documents (resp. datagrams of any kind, including invalid
  // ones) have arrived since construction or the last clear(). Returns false on timeout.
  bool wait_for_documents(std::size_t count, std::chrono::milliseconds timeout) const;
  bool wait_for_datagrams(std::size_t count, std::chrono::milliseconds timeout) const;

  // Snapshots, in arrival order.
  std::vector<nlohmann::json> documents() const;
  // The valid documents that had reached the daemon's socket when this was called, whether or not
  // the receive thread had read them yet: sends a marker datagram to the socket and waits until
  // the thread takes it, so everything queued ahead of it has been handled. The marker is neither
  // a document nor a datagram in the counts. nullopt when the marker is not back within `timeout`.
  std::optional<std::vector<nlohmann::json>> documents_received_by_now(
      std::chrono::milliseconds timeout);
  std::vector<ReceivedDocument> received() const;
  // One string per rejected datagram: what is wrong, then the raw bytes (escaped).
  std::vector<std::string> errors() const;
  // Every datagram received, valid or not.
  std::size_t datagram_count() const;
  // Largest datagram received, valid or not; 0 before the first.
  std::size_t max_datagram_size() const;

  // Forget everything received so far (the socket and thread keep running).
  void clear();

 private:
  void run() noexcept;
  // `wire_bytes` may exceed datagram.size() only if the datagram was truncated on receipt.
  void handle_datagram(std::string datagram, std::size_t wire_bytes);

  int fd_ = -1;
  IpVersion version_;
  std::uint16_t port_ = 0;
  int receive_buffer_bytes_ = 0;

  mutable std::mutex mutex_;
  mutable std::condition_variable arrived_;  // notified after every datagram
  std::vector<ReceivedDocument> documents_;  // guarded by mutex_
  std::vector<std::string> errors_;          // guarded by mutex_
  std::size_t datagram_count_ = 0;           // guarded by mutex_
  std::size_t max_datagram_size_ = 0;        // guarded by mutex_
  std::uint64_t markers_sent_ = 0;           // guarded by mutex_
  std::uint64_t markers_seen_ = 0;           // guarded by mutex_

  std::atomic<bool> stop_{false};
  std::thread thread_;  // last member: started after everything above is initialized
};

// Checks one datagram as FakeDaemon does. Returns an empty string when it is valid (and stores the
// parsed document in `*document` when non-null), otherwise a description of the first problem.
// Exposed so tests can check the checker without a socket.
std::string validate_datagram(std::string_view datagram, nlohmann::json* document = nullptr);

// Every entity in `documents`: each document followed by its embedded subsegments, depth-first
// in document order. The result holds copies, so it does not borrow from `documents`.
std::vector<nlohmann::json> flatten(const std::vector<nlohmann::json>& documents);

// The first entity whose "name" equals `name`, or nullptr. The pointer is into `entities` and
// lives as long as that vector is not modified.
const nlohmann::json* find_by_name(const std::vector<nlohmann::json>& entities,
                                   std::string_view name);

}  // namespace xray::testing
