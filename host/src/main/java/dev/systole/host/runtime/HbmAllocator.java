package dev.systole.host.runtime;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Places tensors and programs in card memory: first fit over a sorted free list, with alignment,
 * coalescing on free. Every live region keeps a purpose ("weights of layer 2", "input"), so an
 * allocation that does not fit can say what it was for, how much it needed, how much is free in
 * all and in one piece, and what holds the rest.
 *
 * <p>First fit is enough here: a session allocates weights once when a model is loaded and a few
 * I/O regions per batch shape, so fragmentation stays small and the list short.
 */
public final class HbmAllocator {
  /** A placed region of card memory. */
  public record Region(long address, long size, String purpose) {
    public long end() {
      return address + size;
    }
  }

  private final long capacity;
  private final TreeMap<Long, Long> free = new TreeMap<>();
  private final TreeMap<Long, Region> used = new TreeMap<>();

  /** Manages card addresses {@code [0, capacity)}. */
  public HbmAllocator(long capacity) {
    if (capacity <= 0) {
      throw new IllegalArgumentException("card memory of " + capacity + " bytes (expected > 0)");
    }
    this.capacity = capacity;
    free.put(0L, capacity);
  }

  public long capacity() {
    return capacity;
  }

  public synchronized long usedBytes() {
    return used.values().stream().mapToLong(Region::size).sum();
  }

  public synchronized List<Region> regions() {
    return Collections.unmodifiableList(new ArrayList<>(used.values()));
  }

  /**
   * Allocates {@code size} bytes aligned to {@code alignment} (a power of two).
   *
   * @throws OutOfDeviceMemoryException if no free block is large enough
   */
  public synchronized Region allocate(String purpose, long size, long alignment) {
    if (size <= 0) {
      throw new IllegalArgumentException(purpose + ": allocation of " + size
          + " bytes (expected > 0)");
    }
    if (alignment <= 0 || Long.bitCount(alignment) != 1) {
      throw new IllegalArgumentException(purpose + ": alignment " + alignment
          + " (expected a power of two)");
    }
    for (Map.Entry<Long, Long> e : free.entrySet()) {
      long start = e.getKey();
      long blockEnd = start + e.getValue();
      long aligned = (start + alignment - 1) & -alignment;
      if (aligned + size <= blockEnd && aligned + size > aligned) {
        free.remove(start);
        if (aligned > start) {
          free.put(start, aligned - start);
        }
        if (aligned + size < blockEnd) {
          free.put(aligned + size, blockEnd - aligned - size);
        }
        Region r = new Region(aligned, size, purpose);
        used.put(aligned, r);
        return r;
      }
    }
    long total = free.values().stream().mapToLong(Long::longValue).sum();
    long largest = free.values().stream().mapToLong(Long::longValue).max().orElse(0);
    throw new OutOfDeviceMemoryException(purpose, size, total, largest, capacity, regions());
  }

  /** Returns a region to the free list, merging it with free neighbours. */
  public synchronized void free(Region r) {
    Region live = used.get(r.address());
    if (live == null || live.size() != r.size()) {
      throw new IllegalArgumentException(String.format("free of 0x%x (%d bytes, %s): not a live"
          + " allocation", r.address(), r.size(), r.purpose()));
    }
    used.remove(r.address());
    long start = r.address();
    long size = r.size();
    Map.Entry<Long, Long> before = free.floorEntry(start);
    if (before != null && before.getKey() + before.getValue() == start) {
      start = before.getKey();
      size += before.getValue();
      free.remove(before.getKey());
    }
    Long after = free.get(r.end());
    if (after != null) {
      size += after;
      free.remove(r.end());
    }
    free.put(start, size);
  }
}
