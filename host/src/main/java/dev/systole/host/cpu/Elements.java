package dev.systole.host.cpu;

import dev.systole.host.graph.ModelException;
import dev.systole.host.graph.Node;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;

/**
 * Conversions between tensors and the primitive arrays kernels loop over, and the index maps of
 * NumPy broadcasting. Kernels copy a tensor's elements out once, run plain loops, and copy the
 * result into a new tensor once: two linear passes next to the work of the op.
 */
final class Elements {
  private Elements() {}

  static long numel(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }

  static long product(long[] s, int from, int to) {
    long p = 1;
    for (int i = from; i < to; i++) {
      p *= s[i];
    }
    return p;
  }

  /** Integer elements widened to long: int8 and int32 signed, uint8 from 0 to 255, bool 0/1. */
  static long[] longs(Tensor t) {
    switch (t.dtype()) {
      case INT64:
        return t.toLongArray();
      case INT32: {
        int[] v = t.toIntArray();
        long[] r = new long[v.length];
        for (int i = 0; i < v.length; i++) {
          r[i] = v[i];
        }
        return r;
      }
      case FLOAT32:
        throw new IllegalStateException("longs() of a float32 tensor");
      default: {
        byte[] b = t.toByteArray();
        long[] r = new long[b.length];
        boolean unsigned = t.dtype() != DType.INT8;
        for (int i = 0; i < b.length; i++) {
          r[i] = unsigned ? b[i] & 0xFF : b[i];
        }
        return r;
      }
    }
  }

  /** A tensor of {@code dtype} from longs, each wrapped to the type's width as a C cast does. */
  static Tensor fromLongs(DType dtype, long[] v, long[] shape) {
    switch (dtype) {
      case INT64:
        return Tensor.ofInt64(v, shape);
      case INT32: {
        int[] r = new int[v.length];
        for (int i = 0; i < v.length; i++) {
          r[i] = (int) v[i];
        }
        return Tensor.ofInt32(r, shape);
      }
      case FLOAT32:
        throw new IllegalStateException("fromLongs to float32");
      default: {
        Tensor t = Tensor.allocate(dtype, shape);
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
          b[i] = dtype == DType.BOOL ? (byte) (v[i] != 0 ? 1 : 0) : (byte) v[i];
        }
        t.data().put(b);
        return t;
      }
    }
  }

  /** Int8 or uint8 elements as ints, -128 to 127 or 0 to 255. */
  static int[] quantized(Tensor t) {
    byte[] b = t.toByteArray();
    int[] r = new int[b.length];
    if (t.dtype() == DType.UINT8) {
      for (int i = 0; i < b.length; i++) {
        r[i] = b[i] & 0xFF;
      }
    } else {
      for (int i = 0; i < b.length; i++) {
        r[i] = b[i];
      }
    }
    return r;
  }

  /** Ints already saturated to the range of {@code dtype} (int8 or uint8), as a tensor. */
  static Tensor fromQuantized(DType dtype, int[] v, long[] shape) {
    byte[] b = new byte[v.length];
    for (int i = 0; i < v.length; i++) {
      b[i] = (byte) v[i];
    }
    return dtype == DType.UINT8 ? Tensor.ofUint8(b, shape) : Tensor.ofInt8(b, shape);
  }

  /** The lowest and highest value of a quantized type. */
  static int qmin(DType dtype) {
    return dtype == DType.UINT8 ? 0 : -128;
  }

  static int qmax(DType dtype) {
    return dtype == DType.UINT8 ? 255 : 127;
  }

  /**
   * For each element of a tensor of shape {@code out}, the index of the element of a tensor of
   * shape {@code in} that NumPy broadcasting reads; null when the shapes are equal (the index is
   * the element's own).
   */
  static int[] broadcastMap(long[] in, long[] out) {
    if (java.util.Arrays.equals(in, out)) {
      return null;
    }
    int r = out.length;
    long[] stride = new long[r];
    long s = 1;
    for (int i = r - 1; i >= 0; i--) {
      int j = i - (r - in.length);
      if (j >= 0 && in[j] != 1) {
        stride[i] = s;
      }
      if (j >= 0) {
        s *= in[j];
      }
    }
    int n = Math.toIntExact(numel(out));
    int[] map = new int[n];
    if (n == 0) {
      return map;
    }
    long[] idx = new long[r];
    int offset = 0;
    for (int k = 0; k < n; k++) {
      map[k] = offset;
      for (int d = r - 1; d >= 0; d--) {
        idx[d]++;
        offset += (int) stride[d];
        if (idx[d] < out[d]) {
          break;
        }
        offset -= (int) (stride[d] * out[d]);
        idx[d] = 0;
      }
    }
    return map;
  }

  /** Checks a tensor holds exactly one value, for scalar parameters such as Clip's min. */
  static void requireScalar(Node node, Tensor t, String what) {
    if (t.numel() != 1) {
      throw ModelException.atNode(node, what + " is " + t.shapeString() + " (expected a scalar)");
    }
  }
}
