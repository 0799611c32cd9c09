// xray/stats.hpp: what a recorder's emitter has done since the recorder was created
// (Recorder::stats()).
// Thread safety: a plain value.
#pragma once

#include <cstdint>

namespace xray {

// Emitter counters since the recorder was created.
struct Stats {
  // Documents the recorder handed over (segments, streamed subtrees) and sent; one that the size
  // ladder split into several datagrams counts once (datagrams_sent counts each datagram).
  std::uint64_t emitted = 0;
  // Documents dropped because the queue was full (Config::queue_capacity or queue_capacity_bytes).
  std::uint64_t dropped_queue_full = 0;
  // Documents still queued when shutdown gave up (shutdown_timeout), or handed over after it.
  std::uint64_t dropped_at_shutdown = 0;
  std::uint64_t dropped_too_large = 0;   // documents dropped because they exceed the datagram limit
  std::uint64_t streamed = 0;            // subtrees sent ahead of their segment
  std::uint64_t truncated = 0;           // documents cut down to fit a datagram
  std::uint64_t send_errors = 0;         // failed send calls
  std::uint64_t bytes_sent = 0;          // datagram bytes sent
  std::uint64_t datagrams_sent = 0;
};

}  // namespace xray
