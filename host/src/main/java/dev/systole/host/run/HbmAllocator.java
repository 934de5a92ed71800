package dev.systole.host.run;

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
 *
 * <p>HBM is split into pseudo-channels (channel i holds the i-th of {@code channels} equal
 * slices), each with its own bandwidth. The accelerator's three memory ports (instruction fetch,
 * LOAD, STORE) run side by side; when two of them stream from one channel they share its
 * bandwidth and its banks, and the run takes longer than the timing model says. So an allocation
 * can name the channel it prefers: first fit inside that channel's slice, and anywhere when the
 * slice is full (placement is a matter of speed, never of correctness).
 */
public final class HbmAllocator {
  /** A placed region of card memory. */
  public record Region(long address, long size, String purpose) {
    public long end() {
      return address + size;
    }
  }

  private final long capacity;
  private final int channels;
  private final TreeMap<Long, Long> free = new TreeMap<>();
  private final TreeMap<Long, Region> used = new TreeMap<>();

  /** Manages card addresses {@code [0, capacity)} as one channel. */
  public HbmAllocator(long capacity) {
    this(capacity, 1);
  }

  /** Manages card addresses {@code [0, capacity)} split into {@code channels} equal slices. */
  public HbmAllocator(long capacity, int channels) {
    if (capacity <= 0) {
      throw new IllegalArgumentException("card memory of " + capacity + " bytes (expected > 0)");
    }
    if (channels < 1 || channels > capacity) {
      throw new IllegalArgumentException("card memory of " + capacity + " bytes in " + channels
          + " channels (expected 1 <= channels <= capacity)");
    }
    this.capacity = capacity;
    this.channels = channels;
    free.put(0L, capacity);
  }

  public int channels() {
    return channels;
  }

  /** The channel that holds {@code address}. */
  public int channelOf(long address) {
    return (int) Math.min(channels - 1, address / (capacity / channels));
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
    return allocate(purpose, size, alignment, -1);
  }

  /**
   * Allocates as {@link #allocate(String, long, long)}, inside channel {@code channel modulo
   * channels()} when it has room, else anywhere; a negative channel means anywhere.
   */
  public synchronized Region allocate(String purpose, long size, long alignment, int channel) {
    if (size <= 0) {
      throw new IllegalArgumentException(purpose + ": allocation of " + size
          + " bytes (expected > 0)");
    }
    if (alignment <= 0 || Long.bitCount(alignment) != 1) {
      throw new IllegalArgumentException(purpose + ": alignment " + alignment
          + " (expected a power of two)");
    }
    if (channel >= 0) {
      long slice = capacity / channels;
      int c = channel % channels;
      long lo = c * slice;
      long hi = c == channels - 1 ? capacity : lo + slice;
      Region r = firstFit(purpose, size, alignment, lo, hi);
      if (r != null) {
        return r;
      }
    }
    Region r = firstFit(purpose, size, alignment, 0, capacity);
    if (r != null) {
      return r;
    }
    long total = free.values().stream().mapToLong(Long::longValue).sum();
    long largest = free.values().stream().mapToLong(Long::longValue).max().orElse(0);
    throw new OutOfDeviceMemoryException(purpose, size, total, largest, capacity, regions());
  }

  private Region firstFit(String purpose, long size, long alignment, long lo, long hi) {
    Long from = free.floorKey(lo);
    for (Map.Entry<Long, Long> e : free.tailMap(from == null ? lo : from, true).entrySet()) {
      long start = e.getKey();
      if (start >= hi) {
        break;
      }
      long blockEnd = start + e.getValue();
      long aligned = (Math.max(start, lo) + alignment - 1) & -alignment;
      long end = aligned + size;
      if (end <= Math.min(blockEnd, hi) && end > aligned) {
        free.remove(start);
        if (aligned > start) {
          free.put(start, aligned - start);
        }
        if (end < blockEnd) {
          free.put(end, blockEnd - end);
        }
        Region r = new Region(aligned, size, purpose);
        used.put(aligned, r);
        return r;
      }
    }
    return null;
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
