package dev.systole.host.compile;

/**
 * Channels {@code [first, first + count)} of a feature map (ONNX Slice or one output of Split on
 * the channel axis): loaded from their offset and stored as a map of their own, through a table
 * when the output is quantized differently ({@code table}, else null).
 */
public record SliceLayer(int first, int count, byte[] table, int zeroPoint)
    implements DeviceLayer {
  public SliceLayer {
    if (first < 0 || count < 1) {
      throw new IllegalArgumentException("slice of channels " + first + " to " + (first + count)
          + " (expected first >= 0 and count >= 1)");
    }
    if (table != null && table.length != 256) {
      throw new IllegalArgumentException("slice: a table of " + table.length
          + " entries (expected 256)");
    }
    if (zeroPoint < -128 || zeroPoint > 127) {
      throw new IllegalArgumentException("slice: zero point " + zeroPoint
          + " (expected -128 to 127)");
    }
    table = table == null ? null : table.clone();
  }

  @Override
  public byte[] table() {
    return table == null ? null : table.clone();
  }

  @Override
  public String describe() {
    return "slice of channels " + first + ".." + (first + count - 1);
  }
}
