package dev.systole.host.compile;

import java.util.ArrayList;
import java.util.List;

/**
 * Feature maps of the same pixels joined along the channels (ONNX Concat on the channel axis):
 * no arithmetic, just addressing: each input's channel blocks are loaded and stored at its
 * channel offset of the output. An input quantized differently from the output goes through a
 * table on the way (VLUT, exact: a code of one scale to the nearest code of another is a
 * function of the code); {@code tables} holds it, or null where the quantizations agree.
 */
public record ConcatLayer(List<byte[]> tables, int zeroPoint) implements DeviceLayer {
  public ConcatLayer {
    if (tables == null || tables.size() < 1) {
      throw new IllegalArgumentException("concat of " + (tables == null ? "no" : tables.size())
          + " inputs (expected at least 1)");
    }
    for (byte[] t : tables) {
      if (t != null && t.length != 256) {
        throw new IllegalArgumentException("concat: a table of " + t.length
            + " entries (expected 256)");
      }
    }
    if (zeroPoint < -128 || zeroPoint > 127) {
      throw new IllegalArgumentException("concat: zero point " + zeroPoint
          + " (expected -128 to 127)");
    }
    List<byte[]> copy = new ArrayList<>();
    tables.forEach(t -> copy.add(t == null ? null : t.clone()));
    tables = java.util.Collections.unmodifiableList(copy);
  }

  @Override
  public String describe() {
    return "concat of " + tables.size();
  }
}
