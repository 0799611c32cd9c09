// Internal: per-thread caches of memory blocks, for the objects every trace allocates.
//
// An unsampled request allocates its tree and its segment and frees both before the thread's next
// request; through these caches that is a pointer pop and a pointer push, not two trips through
// malloc and free, and the request path allocates nothing from the heap once the thread is warm.
// A block freed on another thread (a context handed to a worker, a sampled tree freed by the
// emitter once sent) joins that thread's cache. Each thread keeps at most kMaxCachedBlocks blocks
// per size and frees the rest, so what the caches hold stays bounded; a thread's blocks are freed
// when it exits. Under AddressSanitizer every block goes to the heap, so that use-after-free is
// still found.
// Thread safety: each thread uses only its own caches; a block may be freed on any thread.
#pragma once

#include <cstddef>
#include <new>

namespace xray::detail {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kThreadBlockCacheEnabled = false;
#else
inline constexpr bool kThreadBlockCacheEnabled = true;
#endif

template <std::size_t BlockSize>
class ThreadBlockCache {
 public:
  static constexpr std::size_t kMaxCachedBlocks = 32;

  static void* allocate() {
    Cache& cache = t_cache;
    if (FreeBlock* block = cache.head) {
      cache.head = block->next;
      --cache.count;
      return block;
    }
    return ::operator new(BlockSize);
  }

  static void deallocate(void* block) noexcept {
    Cache& cache = t_cache;
    if (!kThreadBlockCacheEnabled || cache.closed || cache.count == kMaxCachedBlocks) {
      ::operator delete(block);
      return;
    }
    thread_local Drain drain;  // frees this thread's blocks when it exits
    (void)drain;
    cache.head = ::new (block) FreeBlock{cache.head};
    ++cache.count;
  }

 private:
  struct FreeBlock {
    FreeBlock* next;
  };
  // Trivially destructible, so it stays usable while the thread's other objects are destroyed at
  // its exit (a block freed then goes straight to the heap: `closed`).
  struct Cache {
    FreeBlock* head;
    std::size_t count;
    bool closed;
  };
  struct Drain {
    Drain() = default;
    Drain(const Drain&) = delete;
    Drain& operator=(const Drain&) = delete;
    ~Drain() {
      Cache& cache = t_cache;
      cache.closed = true;
      while (FreeBlock* block = cache.head) {
        cache.head = block->next;
        ::operator delete(block);
      }
      cache.count = 0;
    }
  };
  static_assert(BlockSize >= sizeof(FreeBlock));
  static inline thread_local Cache t_cache{};
};

// A std allocator over ThreadBlockCache, for std::allocate_shared (which allocates one block: the
// object with its reference counts).
template <typename T>
class CachedAllocator {
 public:
  using value_type = T;
  CachedAllocator() noexcept = default;
  template <typename U>
  CachedAllocator(const CachedAllocator<U>&) noexcept {}  // NOLINT: rebinding is implicit

  T* allocate(std::size_t n) {
    static_assert(alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__);
    if (n != 1) return static_cast<T*>(::operator new(n * sizeof(T)));
    return static_cast<T*>(ThreadBlockCache<block_size()>::allocate());
  }
  void deallocate(T* block, std::size_t n) noexcept {
    if (n != 1) {
      ::operator delete(block);
      return;
    }
    ThreadBlockCache<block_size()>::deallocate(block);
  }

  template <typename U>
  friend bool operator==(const CachedAllocator&, const CachedAllocator<U>&) noexcept {
    return true;
  }
  template <typename U>
  friend bool operator!=(const CachedAllocator&, const CachedAllocator<U>&) noexcept {
    return false;
  }

 private:
  // Sizes round up to 16 bytes, so types of nearly the same size share a cache.
  static constexpr std::size_t block_size() { return (sizeof(T) + 15) / 16 * 16; }
};

}  // namespace xray::detail
