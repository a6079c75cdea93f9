#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>
#include <vector>

namespace tidewatch {

/// An allocator for large tables read at random (lookup tries, flattened
/// databases, address caches, per-host counters): blocks of 2 MiB or more
/// are 2 MiB-aligned and asked to be backed by transparent huge pages
/// (MADV_HUGEPAGE; Debian's default THP mode, `madvise`, gives them only to
/// regions that ask). With 4 KiB pages, a random read over tens of MiB also
/// misses the TLB, and the page walk costs about as much as the read: in
/// tools/bench/enricher_bench the prefetches of the database's lookups
/// stalled on it. Smaller blocks come from the usual allocator.
template <class T> struct huge_page_allocator {
  using value_type = T;
  static constexpr size_t huge_page = size_t(2) << 20;

  huge_page_allocator() = default;
  template <class U> huge_page_allocator(const huge_page_allocator<U>&) noexcept {}

  T* allocate(size_t n) {
    size_t bytes = n * sizeof(T);
    if (bytes < huge_page)
      return std::allocator<T>{}.allocate(n);
    size_t rounded = (bytes + huge_page - 1) / huge_page * huge_page;
    void* p = std::aligned_alloc(huge_page, rounded);
    if (p == nullptr)
      throw std::bad_alloc{};
    // Advice only: where the kernel has no huge page, 4 KiB pages serve.
    madvise(p, rounded, MADV_HUGEPAGE);
    return static_cast<T*>(p);
  }

  void deallocate(T* p, size_t n) noexcept {
    if (n * sizeof(T) < huge_page)
      std::allocator<T>{}.deallocate(p, n);
    else
      std::free(p);
  }

  template <class U> bool operator==(const huge_page_allocator<U>&) const noexcept { return true; }
};

/// A vector whose large buffers are backed by huge pages (huge_page_allocator).
template <class T> using huge_vector = std::vector<T, huge_page_allocator<T>>;

} // namespace tidewatch
