package dev.systole.host.quantize;

import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;
import java.nio.ByteBuffer;

/** Small tensor operations the model runtime needs: slices of rows, and float views. */
final class Tensors {
  private Tensors() {}

  /** Rows {@code [from, to)} of {@code t} along its first axis, as a copy. */
  static Tensor rows(Tensor t, long from, long to) {
    long[] shape = t.shape();
    if (shape.length == 0 || from < 0 || to > shape[0] || from > to) {
      throw new IndexOutOfBoundsException("rows " + from + " to " + to + " of " + t
          + " (expected 0 <= from <= to <= " + (shape.length == 0 ? 0 : shape[0]) + ")");
    }
    long row = shape[0] == 0 ? 0 : t.byteSize() / shape[0];
    shape[0] = to - from;
    Tensor out = Tensor.allocate(t.dtype(), shape);
    ByteBuffer src = t.data().position((int) (from * row)).limit((int) (to * row));
    out.data().put(src);
    return out;
  }

  /** The elements of a float32 tensor. */
  static float[] floats(Tensor t) {
    if (t.dtype() != DType.FLOAT32) {
      throw new IllegalArgumentException(t + " (expected float32)");
    }
    float[] f = new float[Math.toIntExact(t.numel())];
    t.data().asFloatBuffer().get(f);
    return f;
  }
}
