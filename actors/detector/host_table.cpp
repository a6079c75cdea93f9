#include "actors/detector/host_table.hpp"

#include <sys/mman.h>

#include <bit>
#include <cstdint>

namespace tidewatch {

namespace {

/// Asks for transparent huge pages under a large array: lookups land on
/// random hosts, and 4 KiB pages would add a TLB miss to most of them.
void advise_huge_pages(const void* data, size_t bytes) {
  constexpr uintptr_t huge = 2 << 20;
  auto begin = (reinterpret_cast<uintptr_t>(data) + huge - 1) & ~(huge - 1);
  auto end = (reinterpret_cast<uintptr_t>(data) + bytes) & ~(huge - 1);
  if (end > begin)
    ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
}

} // namespace

host_table::host_table(size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {
  // Advised before the zeros are written, which is when the pages are taken.
  size_t slots = std::bit_ceil(capacity_ * 2);
  slots_.reserve(slots);
  advise_huge_pages(slots_.data(), slots * sizeof(uint32_t));
  slots_.resize(slots);
  mask_ = slots_.size() - 1;
  // Positions + 1 go up to the capacity (at most 100 M hosts: 27 bits).
  position_mask_ = uint32_t((uint64_t(1) << std::bit_width(capacity_)) - 1);
  lines_.reserve(capacity_);
  advise_huge_pages(lines_.data(), capacity_ * sizeof(host_lines));
  windows_.reserve(capacity_);
  advise_huge_pages(windows_.data(), capacity_ * sizeof(host_windows));
}

size_t host_table::find_or_insert_hashed(const ip_address& a, uint64_t h, size_t dir, bool& fresh) {
  uint32_t fingerprint = fingerprint_of(h);
  fresh = false;
  for (size_t i = h & mask_;; i = (i + 1) & mask_) {
    uint32_t slot = slots_[i];
    if (slot == 0) {
      if (lines_.size() == capacity_)
        return npos;
      slots_[i] = slot_of(h, lines_.size());
      auto& lines = lines_.emplace_back();
      lines[0].address = a;
      lines[1].address = a;
      windows_.emplace_back();
      fresh = true;
      return lines_.size() - 1;
    }
    if ((slot & ~position_mask_) == fingerprint && same(lines_[index_of(slot)][dir].address, a))
      return index_of(slot);
  }
}

size_t host_table::slot_pointing_at(size_t index) const {
  for (size_t i = hash(address(index)) & mask_;; i = (i + 1) & mask_)
    if (slots_[i] != 0 && index_of(slots_[i]) == index)
      return i;
}

void host_table::erase_at(size_t index) {
  // Backward-shift deletion keeps every probe sequence unbroken without tombstones.
  size_t hole = slot_pointing_at(index);
  for (size_t i = (hole + 1) & mask_; slots_[i] != 0; i = (i + 1) & mask_) {
    size_t home = hash(address(index_of(slots_[i]))) & mask_;
    // Move slot i into the hole when its home is not in (hole, i] cyclically.
    if (((i - home) & mask_) >= ((i - hole) & mask_)) {
      slots_[hole] = slots_[i];
      hole = i;
    }
  }
  slots_[hole] = 0;
  // Keep the arrays dense: the last host moves into the freed place.
  size_t last = lines_.size() - 1;
  if (index != last) {
    size_t moved = slot_pointing_at(last);
    lines_[index] = lines_[last];
    windows_[index] = windows_[last];
    slots_[moved] = (slots_[moved] & ~position_mask_) | uint32_t(index + 1);
  }
  lines_.pop_back();
  windows_.pop_back();
}

} // namespace tidewatch
