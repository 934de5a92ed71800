package dev.systole.driver.contract;

/**
 * One field of an instruction word: where its bits are, how they read (unsigned, two's complement,
 * a flag, a buffer id or a wait set) and the range the device accepts. The encoding range (what the
 * bits can hold) is checked when a value is written into an {@link Instruction}; the legal range
 * ({@link #min()} to {@link #max()}) is checked by the device when it runs the instruction, so that
 * bad programs can still be written down and their error status tested.
 */
public final class InstrField {
  /** How a field's bits are read. */
  public enum Kind {
    UINT,
    INT,
    FLAG,
    BUFFER,
    WAIT
  }

  private final String name;
  private final int lsb;
  private final int width;
  private final Kind kind;
  private final long min;
  private final long max;
  private final boolean hex;
  private final String doc;

  public InstrField(String name, int lsb, int width, Kind kind, long min, long max, boolean hex,
      String doc) {
    this.name = name;
    this.lsb = lsb;
    this.width = width;
    this.kind = kind;
    this.min = min;
    this.max = max;
    this.hex = hex;
    this.doc = doc;
  }

  public String name() {
    return name;
  }

  /** Bit position of the least significant bit, 0 to 255. */
  public int lsb() {
    return lsb;
  }

  public int width() {
    return width;
  }

  public Kind kind() {
    return kind;
  }

  public boolean signed() {
    return kind == Kind.INT;
  }

  /** Smallest legal value. */
  public long min() {
    return min;
  }

  /** Largest legal value. */
  public long max() {
    return max;
  }

  /** Smallest value the bits can hold. */
  public long encodingMin() {
    return signed() ? -(1L << (width - 1)) : 0;
  }

  /** Largest value the bits can hold. */
  public long encodingMax() {
    if (width == 64) {
      return Long.MAX_VALUE;
    }
    return signed() ? (1L << (width - 1)) - 1 : (1L << width) - 1;
  }

  /** Whether the disassembler prints this field in hex. */
  public boolean hex() {
    return hex;
  }

  public String doc() {
    return doc;
  }

  int word() {
    return lsb >>> 6;
  }

  int shift() {
    return lsb & 63;
  }

  long mask() {
    return width == 64 ? -1L : (1L << width) - 1;
  }

  @Override
  public String toString() {
    return name + "[" + (lsb + width - 1) + ":" + lsb + "]";
  }
}
