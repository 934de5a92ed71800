package dev.systole.host.quantize;

import dev.systole.host.tensor.Tensor;
import java.nio.FloatBuffer;
import java.util.StringJoiner;

/**
 * The check every float tensor passes before it is quantized: its values must be finite. A NaN
 * or an infinity has no int8 code; quantizing clamps it to a code like any other, so a model
 * fed one would give confident finite outputs where the float model gives NaN. Refusing is the
 * only answer that loses nothing, and the error names the tensor and the first bad element's
 * index so the user can find it in their data. The check is one pass over values the quantizer
 * reads anyway, so it is cheap next to the quantization itself.
 */
public final class FiniteValues {
  private FiniteValues() {}

  /**
   * Refuses float32 tensor {@code t} if an element is NaN or infinite.
   *
   * @param what how the message names the tensor, e.g. {@code "input 'image'"}
   * @throws IllegalArgumentException naming {@code what}, the value, and its index in {@code t}
   */
  public static void require(String what, Tensor t) {
    FloatBuffer f = t.data().asFloatBuffer();
    int n = f.remaining();
    for (int i = 0; i < n; i++) {
      if (!Float.isFinite(f.get(i))) {
        throw notFinite(what, f.get(i), t.shape(), i);
      }
    }
  }

  /**
   * Refuses {@code values}, a tensor of shape {@code shape} in C order, if one is NaN or infinite.
   *
   * @throws IllegalArgumentException naming {@code what}, the value, and its index
   */
  public static void require(String what, long[] shape, float[] values) {
    for (int i = 0; i < values.length; i++) {
      if (!Float.isFinite(values[i])) {
        throw notFinite(what, values[i], shape, i);
      }
    }
  }

  /**
   * The error for element {@code flat}, of value {@code v}, of a tensor of {@code shape}: for a
   * caller that finds it in a pass of its own.
   */
  public static IllegalArgumentException notFinite(String what, float v, long[] shape,
      long flat) {
    return new IllegalArgumentException(what + " holds " + v + " at index " + index(shape, flat)
        + " (expected finite values: it is quantized to int8, which has no code for NaN or"
        + " infinity)");
  }

  /** The index of element {@code flat} of a C-order tensor of {@code shape}, as {@code [i, j]}. */
  static String index(long[] shape, long flat) {
    if (shape.length == 0) {
      return "[]";
    }
    long[] at = new long[shape.length];
    long rest = flat;
    for (int d = shape.length - 1; d >= 0; d--) {
      long size = Math.max(1, shape[d]);
      at[d] = rest % size;
      rest /= size;
    }
    StringJoiner j = new StringJoiner(", ", "[", "]");
    for (long a : at) {
      j.add(Long.toString(a));
    }
    return j.toString();
  }
}
