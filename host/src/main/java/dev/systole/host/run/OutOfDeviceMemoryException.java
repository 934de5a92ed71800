package dev.systole.host.run;

import java.util.List;
import java.util.Locale;

/** What was asked of card memory that it could not give, and what holds the rest. */
public final class OutOfDeviceMemoryException extends IllegalStateException {
  private final long needed;
  private final long free;

  OutOfDeviceMemoryException(String purpose, long needed, long free, long largest, long capacity,
      List<HbmAllocator.Region> holders) {
    super(message(purpose, needed, free, largest, capacity, holders));
    this.needed = needed;
    this.free = free;
  }

  private static String message(String purpose, long needed, long free, long largest,
      long capacity, List<HbmAllocator.Region> holders) {
    StringBuilder sb = new StringBuilder(String.format("card memory full: %s needs %s but %s of"
        + " %s is free (largest free block %s)", purpose, size(needed), size(free), size(capacity),
        size(largest)));
    holders.stream().sorted((a, b) -> Long.compare(b.size(), a.size())).limit(5)
        .forEach(r -> sb.append(String.format("; %s holds %s", r.purpose(), size(r.size()))));
    return sb.toString();
  }

  /** {@code 1.50 MiB}, {@code 12.0 KiB}, {@code 300 bytes}: a size for a message. */
  static String size(long bytes) {
    if (bytes >= 1L << 30) {
      return String.format(Locale.ROOT, "%.2f GiB", bytes / (double) (1L << 30));
    }
    if (bytes >= 1L << 20) {
      return String.format(Locale.ROOT, "%.2f MiB", bytes / (double) (1L << 20));
    }
    if (bytes >= 1L << 10) {
      return String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0);
    }
    return bytes + " bytes";
  }

  public long needed() {
    return needed;
  }

  public long free() {
    return free;
  }
}
