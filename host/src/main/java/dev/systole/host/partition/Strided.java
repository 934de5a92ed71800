package dev.systole.host.partition;

import java.util.Arrays;

/**
 * How the elements of a value a device program holds as rows of features are seen by the model:
 * an ONNX shape and, per axis, the stride in elements through the card buffer that holds the
 * value densely. A Transpose or a Reshape of such a value is a new view of the same bytes, so
 * the heads of attention are split, merged and transposed by addressing alone; a layer that
 * reads a view loads with its strides, and a value that leaves the program is gathered in
 * ONNX's order as it crosses ({@link #order()}).
 *
 * <p>Every view here is a permutation of its buffer: each element of the buffer is seen exactly
 * once. A view is <em>in order</em> when it enumerates the buffer front to back (axes of size 1
 * do not count), which is what every layer that reads rows without strides requires.
 */
record Strided(long[] shape, long[] strides) {
  Strided {
    if (shape.length != strides.length) {
      throw new IllegalArgumentException("view of shape " + Arrays.toString(shape) + " with "
          + strides.length + " strides (expected one per axis)");
    }
    shape = shape.clone();
    strides = strides.clone();
  }

  /** The value {@code shape} stored densely in ONNX's order. */
  static Strided dense(long[] shape) {
    long[] s = new long[shape.length];
    long step = 1;
    for (int i = shape.length - 1; i >= 0; i--) {
      s[i] = step;
      step *= shape[i];
    }
    return new Strided(shape, s);
  }

  @Override
  public long[] shape() {
    return shape.clone();
  }

  @Override
  public long[] strides() {
    return strides.clone();
  }

  long numel() {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }

  int rank() {
    return shape.length;
  }

  long size(int axis) {
    return shape[axis];
  }

  long stride(int axis) {
    return strides[axis];
  }

  /** Whether the view enumerates its buffer front to back. */
  boolean inOrder() {
    long step = 1;
    for (int i = shape.length - 1; i >= 0; i--) {
      if (shape[i] != 1 && strides[i] != step) {
        return false;
      }
      step *= shape[i];
    }
    return true;
  }

  /** The view with its axes in the order {@code perm} (ONNX Transpose). */
  Strided transpose(long[] perm) {
    if (perm.length != shape.length) {
      throw new IllegalArgumentException("perm " + Arrays.toString(perm) + " of a rank "
          + shape.length + " view (expected " + shape.length + " axes)");
    }
    long[] sh = new long[perm.length];
    long[] st = new long[perm.length];
    boolean[] seen = new boolean[perm.length];
    for (int i = 0; i < perm.length; i++) {
      int a = (int) perm[i];
      if (perm[i] < 0 || perm[i] >= perm.length || seen[a]) {
        throw new IllegalArgumentException("perm " + Arrays.toString(perm) + " (expected a"
            + " permutation of 0 to " + (perm.length - 1) + ")");
      }
      seen[a] = true;
      sh[i] = shape[a];
      st[i] = strides[a];
    }
    return new Strided(sh, st);
  }

  /**
   * The same elements in ONNX's row-major order seen with shape {@code to}, or null if that
   * is no view of this buffer (it would need a copy): axes may be split freely, and merged only
   * where they are contiguous with each other.
   */
  Strided reshape(long[] to) {
    long n = 1;
    for (long d : to) {
      n *= d;
    }
    if (n != numel() || n == 0) {
      return null;
    }
    int kept = 0;
    for (long d : shape) {
      kept += d == 1 ? 0 : 1;
    }
    long[] od = new long[kept];
    long[] os = new long[kept];
    for (int i = 0, j = 0; i < shape.length; i++) {
      if (shape[i] != 1) {
        od[j] = shape[i];
        os[j++] = strides[i];
      }
    }
    long[] ns = new long[to.length];
    Arrays.fill(ns, 1);
    int ni = 0;
    int oi = 0;
    while (ni < to.length && oi < od.length) {
      if (to[ni] == 1) {
        ni++;
        continue;
      }
      long np = to[ni];
      long op = od[oi];
      int nj = ni + 1;
      int oj = oi + 1;
      while (np != op) {
        if (np < op) {
          np *= to[nj++];
        } else {
          op *= od[oj++];
        }
      }
      for (int k = oi; k < oj - 1; k++) {
        if (os[k] != od[k + 1] * os[k + 1]) {
          return null;
        }
      }
      ns[nj - 1] = os[oj - 1];
      for (int k = nj - 1; k > ni; k--) {
        ns[k - 1] = ns[k] * to[k];
      }
      ni = nj;
      oi = oj;
    }
    return new Strided(to, ns);
  }

  /**
   * The view with its last axis {@code width} long instead of its own, each run of the last
   * axis in the new buffer where the old one was in the old: what a layer that maps each vector
   * of the last axis to a vector of {@code width} makes of its input's view. Needs the last
   * axis contiguous and every other stride a whole number of its runs ({@link #rowsOfLast()}).
   */
  Strided withLast(long width) {
    int r = shape.length - 1;
    long old = shape[r];
    long[] sh = shape.clone();
    long[] st = strides.clone();
    sh[r] = width;
    st[r] = 1;
    for (int i = 0; i < r; i++) {
      st[i] = strides[i] / old * width;
    }
    return new Strided(sh, st);
  }

  /**
   * Whether each vector of the last axis is a contiguous run of the buffer that starts at a
   * multiple of its length, so that the buffer is those runs one after the other, in some order.
   */
  boolean rowsOfLast() {
    int r = shape.length - 1;
    if (r < 0 || shape[r] != 1 && strides[r] != 1) {
      return false;
    }
    for (int i = 0; i < r; i++) {
      if (shape[i] != 1 && strides[i] % shape[r] != 0) {
        return false;
      }
    }
    return true;
  }

  /** The buffer index of each element in ONNX's row-major order. */
  int[] order() {
    int n = Math.toIntExact(numel());
    int[] out = new int[n];
    int rank = shape.length;
    long[] idx = new long[rank];
    long at = 0;
    for (int i = 0; i < n; i++) {
      out[i] = (int) at;
      for (int a = rank - 1; a >= 0; a--) {
        idx[a]++;
        at += strides[a];
        if (idx[a] < shape[a]) {
          break;
        }
        at -= strides[a] * shape[a];
        idx[a] = 0;
      }
    }
    return out;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Strided s && Arrays.equals(shape, s.shape)
        && Arrays.equals(strides, s.strides);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(shape) + Arrays.hashCode(strides);
  }

  @Override
  public String toString() {
    return Arrays.toString(shape) + " strides " + Arrays.toString(strides);
  }
}
