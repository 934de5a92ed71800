package dev.systole.host.graph;

/**
 * One dimension of a declared shape: a number, a name such as {@code N} that stands for the same
 * size wherever it appears (a symbolic batch dimension), or unknown. A model fixes what it can and
 * names the rest; the sizes are only known once inputs are given, so shapes are checked and
 * inferred again then, on plain {@code long[]}.
 *
 * @param value the size, or -1 if the dimension is symbolic or unknown
 * @param symbol the name of a symbolic dimension, else null
 */
public record Dim(long value, String symbol) {
  public Dim {
    if (value < -1 || (value >= 0 && symbol != null)) {
      throw new IllegalArgumentException(String.format(
          "dimension value %d with symbol %s (expected a size >= 0 with no symbol, or -1)",
          value, symbol));
    }
    if (symbol != null && symbol.isEmpty()) {
      throw new IllegalArgumentException("empty dimension symbol (expected a name, or null)");
    }
  }

  public static Dim of(long value) {
    if (value < 0) {
      throw new IllegalArgumentException("dimension " + value + " (expected >= 0)");
    }
    return new Dim(value, null);
  }

  public static Dim symbol(String name) {
    return new Dim(-1, name);
  }

  public static Dim unknown() {
    return new Dim(-1, null);
  }

  public boolean isKnown() {
    return value >= 0;
  }

  /** {@code 28}, {@code N}, or {@code ?}. */
  @Override
  public String toString() {
    return value >= 0 ? Long.toString(value) : symbol != null ? symbol : "?";
  }
}
