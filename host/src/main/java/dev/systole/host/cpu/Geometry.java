package dev.systole.host.cpu;

import dev.systole.host.graph.ModelException;
import dev.systole.host.graph.Node;
import dev.systole.host.graph.Window;
import java.util.Arrays;

/**
 * A convolution's or pooling's window in the form the kernels loop over: ints, and always three
 * spatial axes, a 1-D or 2-D input being one whose leading spatial axes have size 1 with a kernel
 * of 1. One loop nest then serves 1-D, 2-D and 3-D, and the extra loops of the 2-D case run once.
 */
record Geometry(int batch, int channels, int[] in, int[] kernel, int[] strides, int[] dilations,
    int[] padBegin, int[] padEnd, int[] out) {

  static final int AXES = 3;

  /**
   * @param x the input's shape, batch and channels first
   * @param kernel the kernel's spatial sizes
   */
  static Geometry of(Node node, long[] x, long[] kernel) {
    int spatial = x.length - 2;
    if (spatial < 1 || spatial > AXES) {
      throw ModelException.atNode(node, "input has " + spatial + " spatial axes (expected 1 to "
          + AXES + ")");
    }
    Window w = Window.of(node, Arrays.copyOfRange(x, 2, x.length), kernel);
    return new Geometry(Math.toIntExact(x[0]), Math.toIntExact(x[1]), pad(w.input(), 1),
        pad(w.kernel(), 1), pad(w.strides(), 1), pad(w.dilations(), 1), pad(w.padBegin(), 0),
        pad(w.padEnd(), 0), pad(w.output(), 1));
  }

  private static int[] pad(long[] v, int fill) {
    int[] r = new int[AXES];
    Arrays.fill(r, fill);
    for (int i = 0; i < v.length; i++) {
      r[AXES - v.length + i] = Math.toIntExact(v[i]);
    }
    return r;
  }

  int inPlane() {
    return in[0] * in[1] * in[2];
  }

  int outPlane() {
    return out[0] * out[1] * out[2];
  }

  int kernelVolume() {
    return kernel[0] * kernel[1] * kernel[2];
  }

  /** The first output position on axis {@code a} whose input position for tap {@code k} is in. */
  int firstValid(int a, int k) {
    int off = k * dilations[a] - padBegin[a];
    return off >= 0 ? 0 : Math.floorDiv(-off + strides[a] - 1, strides[a]);
  }

  /** One past the last output position on axis {@code a} whose input for tap {@code k} is in. */
  int endValid(int a, int k) {
    int off = k * dilations[a] - padBegin[a];
    int last = Math.floorDiv(in[a] - 1 - off, strides[a]);
    return Math.max(0, Math.min(out[a], last + 1));
  }
}
