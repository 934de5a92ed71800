package dev.systole.host.compile;

import java.util.Arrays;

/**
 * A value gathered into the order its view says: element {@code i} (row-major over
 * {@code shape}) of the output is byte {@code sum_a idx_a * strides[a]} of the input. The last
 * axis must be contiguous (stride 1), so the gather moves runs of bytes: what brings a
 * transposed value back into ONNX's order on the device when a layer needs it so (a residual
 * add after a sequence-first attention, a head merge no strides can say). The codes are moved
 * as they are, so the output has the input's zero point.
 */
public record CopyLayer(long[] shape, long[] strides) implements DeviceLayer {
  public CopyLayer {
    if (shape.length < 1 || strides.length != shape.length
        || strides[shape.length - 1] != 1 && shape[shape.length - 1] != 1) {
      throw new IllegalArgumentException("copy of shape " + Arrays.toString(shape)
          + " with strides " + Arrays.toString(strides) + " (expected one stride per axis,"
          + " the last 1)");
    }
    for (int i = 0; i < shape.length; i++) {
      if (shape[i] < 1 || strides[i] < 0) {
        throw new IllegalArgumentException("copy of shape " + Arrays.toString(shape)
            + " with strides " + Arrays.toString(strides) + " (expected sizes >= 1 and"
            + " strides >= 0)");
      }
    }
    shape = shape.clone();
    strides = strides.clone();
  }

  /** Whether the device can gather a view of this last axis on {@code d} lanes. */
  public static boolean fits(long last, int d) {
    return last <= d || last % d == 0;
  }

  @Override
  public long[] shape() {
    return shape.clone();
  }

  @Override
  public long[] strides() {
    return strides.clone();
  }

  public long numel() {
    long n = 1;
    for (long s : shape) {
      n *= s;
    }
    return n;
  }

  @Override
  public String describe() {
    return "copy " + Arrays.toString(shape);
  }
}
