package dev.systole.host.cli.diag;

import java.util.Locale;

/** Byte counts as users write them ({@code 64M}, {@code 0x1000}) and as people read them. */
public final class Sizes {
  private Sizes() {}

  /**
   * A byte count: decimal or 0x hexadecimal, optionally followed by K, M or G (binary: 1K = 1024).
   *
   * @throws IllegalArgumentException naming the text and the accepted forms
   */
  public static long parse(String what, String text) {
    String t = text.strip().toUpperCase(Locale.ROOT);
    long unit = 1;
    if (!t.startsWith("0X") && !t.isEmpty()) {
      char last = t.charAt(t.length() - 1);
      unit = switch (last) {
        case 'K' -> 1L << 10;
        case 'M' -> 1L << 20;
        case 'G' -> 1L << 30;
        default -> 1;
      };
      if (unit > 1) {
        t = t.substring(0, t.length() - 1);
      }
    }
    try {
      long v = Long.decode(t);
      if (v < 0 || v > Long.MAX_VALUE / unit) {
        throw new NumberFormatException();
      }
      return v * unit;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(what + " \"" + text + "\" is not a byte count (expected"
          + " a number >= 0, decimal or 0x hexadecimal, optionally with K, M or G: 64M)");
    }
  }

  /** {@code 64 KiB}, {@code 16 GiB}, {@code 33 B}: the largest unit that divides exactly. */
  public static String format(long bytes) {
    if (bytes >= 1L << 30 && bytes % (1L << 30) == 0) {
      return (bytes >> 30) + " GiB";
    }
    if (bytes >= 1L << 20 && bytes % (1L << 20) == 0) {
      return (bytes >> 20) + " MiB";
    }
    if (bytes >= 1L << 10 && bytes % (1L << 10) == 0) {
      return (bytes >> 10) + " KiB";
    }
    return bytes + " B";
  }
}
