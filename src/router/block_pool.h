// BlockPool: fixed-size blocks carved from slabs, for the many small long-lived objects of
// idle connections (a parked connection and its pending wait). Keeping them together, away
// from the buffers that busy connections take and give back, keeps the heap from
// fragmenting: 10,000 idle connections then cost what they hold, not the holes between.
// Not thread-safe: one per worker thread. Slabs are freed with the pool.
#pragma once

#include <cstddef>
#include <memory>
#include <new>
#include <vector>

namespace lastgood {

class BlockPool {
 public:
  static constexpr size_t kBlockBytes = 256;
  static constexpr size_t kBlocksPerSlab = 256;

  void* Allocate(size_t bytes) {
    if (bytes > kBlockBytes) return ::operator new(bytes);
    if (!free_) Grow();
    void* block = free_;
    free_ = *static_cast<void**>(block);
    return block;
  }
  void Deallocate(void* block, size_t bytes) {
    if (bytes > kBlockBytes) {
      ::operator delete(block);
      return;
    }
    *static_cast<void**>(block) = free_;
    free_ = block;
  }

 private:
  void Grow() {
    slabs_.push_back(std::make_unique<Block[]>(kBlocksPerSlab));
    for (size_t i = 0; i < kBlocksPerSlab; ++i) Deallocate(&slabs_.back()[i], kBlockBytes);
  }
  struct alignas(std::max_align_t) Block {
    char bytes[kBlockBytes];
  };
  void* free_ = nullptr;
  std::vector<std::unique_ptr<Block[]>> slabs_;
};

// A standard allocator over a BlockPool, for handlers bound with asio::bind_allocator.
template <class T>
struct BlockPoolAllocator {
  using value_type = T;
  explicit BlockPoolAllocator(BlockPool* p) : pool(p) {}
  template <class U>
  BlockPoolAllocator(const BlockPoolAllocator<U>& other) : pool(other.pool) {}  // NOLINT
  T* allocate(size_t n) { return static_cast<T*>(pool->Allocate(n * sizeof(T))); }
  void deallocate(T* p, size_t n) { pool->Deallocate(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const BlockPoolAllocator<U>& other) const {
    return pool == other.pool;
  }
  BlockPool* pool;
};

}  // namespace lastgood
