package dev.systole.host.cpu;

import dev.systole.host.graph.Node;
import dev.systole.host.graph.OpShapes;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;
import java.util.Arrays;

/**
 * Conv, ConvInteger and QLinearConv as a direct convolution over 1 to 3 spatial axes, groups and
 * depthwise included. The loop order puts one weight in a register and runs it along a row of the
 * output (an axpy over contiguous or strided input), with the rows a tap can reach computed once,
 * so the inner loop has no bounds checks and padding costs nothing. The integer forms run the same
 * loops on ints with the zero points subtracted first: a padded position then contributes 0, which
 * is what padding with the zero point means, and the int32 accumulation is exact.
 */
final class ConvKernels {
  private ConvKernels() {}

  static Tensor[] conv(Node node, Tensor[] in) {
    long[] outShape = OpShapes.outputShapes(node, in)[0];
    Geometry g = Geometry.of(node, in[0].shape(), spatial(in[1].shape()));
    int m = (int) in[1].dim(0);
    float[] y = new float[Math.toIntExact(Elements.numel(outShape))];
    if (in.length > 2 && in[2] != null) {
      float[] bias = in[2].toFloatArray();
      int plane = g.outPlane();
      for (int n = 0; n < g.batch(); n++) {
        for (int oc = 0; oc < m; oc++) {
          Arrays.fill(y, (n * m + oc) * plane, (n * m + oc + 1) * plane, bias[oc]);
        }
      }
    }
    convFloat(g, group(node), m, in[0].toFloatArray(), in[1].toFloatArray(), y);
    return new Tensor[] {Tensor.ofFloat32(y, outShape)};
  }

  static Tensor[] convInteger(Node node, Tensor[] in) {
    long[] outShape = OpShapes.outputShapes(node, in)[0];
    int[] acc = accumulate(node, in[0], zeroPoint(in, 2), in[1], in.length > 3 ? in[3] : null);
    return new Tensor[] {Tensor.ofInt32(acc, outShape)};
  }

  /** QLinearConv: the ConvInteger sum plus the int32 bias, requantized to y's scale. */
  static Tensor[] qlinearConv(Node node, Tensor[] in) {
    long[] outShape = OpShapes.outputShapes(node, in)[0];
    Tensor w = in[3];
    int m = (int) w.dim(0);
    int[] acc = accumulate(node, in[0], in[2], w, in[5]);
    int plane = acc.length / Math.max(1, (int) outShape[0] * m);
    if (in.length > 8 && in[8] != null) {
      int[] bias = in[8].toIntArray();
      for (int i = 0; i < acc.length; i++) {
        acc[i] += bias[(i / plane) % m];
      }
    }
    float xScale = in[1].toFloatArray()[0];
    float[] wScale = in[4].toFloatArray();
    float yScale = in[6].toFloatArray()[0];
    DType yType = in[7].dtype();
    int yZero = Elements.quantized(in[7])[0];
    float[] scale = new float[m];
    for (int oc = 0; oc < m; oc++) {
      scale[oc] = xScale * wScale[wScale.length == 1 ? 0 : oc] / yScale;
    }
    int lo = Elements.qmin(yType);
    int hi = Elements.qmax(yType);
    for (int i = 0; i < acc.length; i++) {
      acc[i] = Requant.apply(acc[i], scale[(i / plane) % m], yZero, lo, hi);
    }
    return new Tensor[] {Elements.fromQuantized(yType, acc, outShape)};
  }

  private static Tensor zeroPoint(Tensor[] in, int i) {
    return in.length > i ? in[i] : null;
  }

  /** The int32 sums of (x - x_zero_point) * (w - w_zero_point), per output channel. */
  private static int[] accumulate(Node node, Tensor xt, Tensor xZero, Tensor wt, Tensor wZero) {
    Geometry g = Geometry.of(node, xt.shape(), spatial(wt.shape()));
    int m = (int) wt.dim(0);
    int[] x = Elements.quantized(xt);
    int xz = xZero == null ? 0 : Elements.quantized(xZero)[0];
    if (xz != 0) {
      for (int i = 0; i < x.length; i++) {
        x[i] -= xz;
      }
    }
    int[] w = Elements.quantized(wt);
    if (wZero != null) {
      int[] wz = Elements.quantized(wZero);
      int per = w.length / m;
      for (int i = 0; i < w.length; i++) {
        w[i] -= wz[wz.length == 1 ? 0 : i / per];
      }
    }
    int[] y = new int[g.batch() * m * g.outPlane()];
    convInt(g, group(node), m, x, w, y);
    return y;
  }

  private static int group(Node node) {
    return Math.toIntExact(node.intAttr("group"));
  }

  private static long[] spatial(long[] w) {
    return Arrays.copyOfRange(w, 2, w.length);
  }

  /**
   * y += conv(x, w); y holds N x M output planes, already holding any bias. Each image and
   * group is unfolded into a matrix of its input windows (im2col: one row per input channel and
   * tap, one column per output position), so the convolution is one matrix product per group whose
   * inner loop runs along a whole output plane.
   */
  static void convFloat(Geometry g, int group, int m, float[] x, float[] w, float[] y) {
    int cg = g.channels() / group;
    int mg = m / group;
    int rows = cg * g.kernelVolume();
    int cols = g.outPlane();
    float[] col = new float[rows * cols];
    for (int n = 0; n < g.batch(); n++) {
      for (int grp = 0; grp < group; grp++) {
        int xo = (n * g.channels() + grp * cg) * g.inPlane();
        for (int row = 0; row < rows; row++) {
          unfold(g, row, cols, (src, dst, len, stride) -> {
            if (stride == 1) {
              System.arraycopy(x, xo + src, col, dst, len);
            } else {
              for (int i = 0; i < len; i++) {
                col[dst + i] = x[xo + src + i * stride];
              }
            }
          }, (from, to) -> Arrays.fill(col, from, to, 0f));
        }
        MatMulKernels.gemm(w, grp * mg * rows, col, 0, y, (n * m + grp * mg) * cols, mg, rows,
            cols);
      }
    }
  }

  /** {@link #convFloat} on ints, for zero-point-adjusted quantized operands. */
  static void convInt(Geometry g, int group, int m, int[] x, int[] w, int[] y) {
    int cg = g.channels() / group;
    int mg = m / group;
    int rows = cg * g.kernelVolume();
    int cols = g.outPlane();
    int[] col = new int[rows * cols];
    for (int n = 0; n < g.batch(); n++) {
      for (int grp = 0; grp < group; grp++) {
        int xo = (n * g.channels() + grp * cg) * g.inPlane();
        for (int row = 0; row < rows; row++) {
          unfold(g, row, cols, (src, dst, len, stride) -> {
            for (int i = 0; i < len; i++) {
              col[dst + i] = x[xo + src + i * stride];
            }
          }, (from, to) -> Arrays.fill(col, from, to, 0));
        }
        MatMulKernels.gemmInt(w, grp * mg * rows, col, 0, y, (n * m + grp * mg) * cols, mg,
            rows, cols);
      }
    }
  }

  /** Copies {@code len} input elements from {@code src} on, {@code stride} apart, to {@code dst}. */
  private interface Copy {
    void run(int src, int dst, int len, int stride);
  }

  /** Clears {@code from} to {@code to} of the unfolded matrix: taps that fall in the padding. */
  private interface Clear {
    void run(int from, int to);
  }

  /**
   * Row {@code row} of the unfolded matrix (input channel {@code row / kernelVolume} of the group,
   * tap {@code row % kernelVolume}): for every output row, the valid stretch copied and the rest
   * cleared.
   */
  private static void unfold(Geometry g, int row, int cols, Copy copy, Clear clear) {
    int[] k = g.kernel();
    int[] s = g.strides();
    int[] d = g.dilations();
    int[] p = g.padBegin();
    int[] in = g.in();
    int[] out = g.out();
    int tap = row % g.kernelVolume();
    int cc = row / g.kernelVolume();
    int kw = tap % k[2];
    int kh = (tap / k[2]) % k[1];
    int kd = tap / (k[2] * k[1]);
    int base = row * cols;
    int odLo = g.firstValid(0, kd);
    int odHi = g.endValid(0, kd);
    int ohLo = g.firstValid(1, kh);
    int ohHi = g.endValid(1, kh);
    int owLo = Math.min(out[2], g.firstValid(2, kw));
    int owHi = Math.max(owLo, g.endValid(2, kw));
    for (int od = 0; od < out[0]; od++) {
      for (int oh = 0; oh < out[1]; oh++) {
        int dst = base + (od * out[1] + oh) * out[2];
        if (od < odLo || od >= odHi || oh < ohLo || oh >= ohHi) {
          clear.run(dst, dst + out[2]);
          continue;
        }
        int id = od * s[0] + kd * d[0] - p[0];
        int ih = oh * s[1] + kh * d[1] - p[1];
        clear.run(dst, dst + owLo);
        clear.run(dst + owHi, dst + out[2]);
        if (owHi == owLo) {
          continue;
        }
        int src = (cc * in[0] + id) * in[1] * in[2] + ih * in[2] + owLo * s[2] + kw * d[2] - p[2];
        copy.run(src, dst + owLo, owHi - owLo, s[2]);
      }
    }
  }
}
