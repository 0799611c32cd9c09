// Internal: the xoshiro256** generator's step (Blackman and Vigna), for the SDK's fast per-thread
// random numbers: entity and trace ids (model/ids.cpp) and the default sampler's draws. The state
// is four words, never all zero; callers seed it from getrandom(2).
// Thread safety: none of its own; each caller keeps its state per thread.
#pragma once

#include <cstdint>

namespace xray::detail {

// Advances `state` and returns the next 64 random bits (all of them usable).
inline std::uint64_t xoshiro256_next(std::uint64_t (&state)[4]) noexcept {
  const auto rotl = [](std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); };
  const std::uint64_t result = rotl(state[1] * 5, 7) * 9;
  const std::uint64_t t = state[1] << 17;
  state[2] ^= state[0];
  state[3] ^= state[1];
  state[1] ^= state[2];
  state[0] ^= state[3];
  state[2] ^= t;
  state[3] = rotl(state[3], 45);
  return result;
}

}  // namespace xray::detail
