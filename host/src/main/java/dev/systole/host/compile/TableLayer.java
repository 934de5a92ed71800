package dev.systole.host.compile;

/**
 * A unary function of an int8 tensor, as the table of its 256 results (CONTRACT.md 11.6): entry
 * {@code e} is the output code for the input code {@code e - 128}. A function of one value with
 * fixed input and output quantization has no other form, so any activation (and any chain of
 * elementwise operations on one value, such as {@code x * sigmoid(x)}) is exact this way: the
 * host computes each entry from the float function once. On the device it is one VLUT per run
 * of rows; the table sits in the LUT buffer.
 */
public record TableLayer(byte[] entries, int zeroPoint) implements DeviceLayer {
  public TableLayer {
    if (entries == null || entries.length != 256) {
      throw new IllegalArgumentException("table of " + (entries == null ? "no" : entries.length)
          + " entries (expected 256, one per int8 input)");
    }
    if (zeroPoint < -128 || zeroPoint > 127) {
      throw new IllegalArgumentException("table: zero point " + zeroPoint
          + " (expected -128 to 127)");
    }
    entries = entries.clone();
  }

  @Override
  public byte[] entries() {
    return entries.clone();
  }

  /** The output code for input code {@code x}. */
  public int apply(int x) {
    return entries[x + 128];
  }

  @Override
  public String describe() {
    return "table";
  }
}
