package dev.systole.host.cpu;

import dev.systole.host.graph.Node;
import dev.systole.host.graph.OpShapes;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;

/**
 * MatMul (NumPy's matmul: 1-D operands promoted, batch dimensions broadcast), Gemm, and the
 * integer forms MatMulInteger and QLinearMatMul. The product is the i-k-j loop: one element of A
 * times a row of B added into a row of C, contiguous in both, which the JIT vectorizes.
 */
final class MatMulKernels {
  private MatMulKernels() {}

  /** The layout of a batched product: batch offsets of A and B for each output matrix. */
  private record Plan(long[] outShape, int batches, int[] aOffset, int[] bOffset, int m, int k,
      int n) {}

  private static Plan plan(long[] a, long[] b, long[] outShape) {
    long[] a2 = a.length == 1 ? new long[] {1, a[0]} : a;
    long[] b2 = b.length == 1 ? new long[] {b[0], 1} : b;
    int m = (int) a2[a2.length - 2];
    int k = (int) a2[a2.length - 1];
    int n = (int) b2[b2.length - 1];
    long[] aBatch = java.util.Arrays.copyOf(a2, a2.length - 2);
    long[] bBatch = java.util.Arrays.copyOf(b2, b2.length - 2);
    int rank = Math.max(aBatch.length, bBatch.length);
    long[] batch = new long[rank];
    for (int i = 0; i < rank; i++) {
      long da = i < rank - aBatch.length ? 1 : aBatch[i - (rank - aBatch.length)];
      long db = i < rank - bBatch.length ? 1 : bBatch[i - (rank - bBatch.length)];
      batch[i] = Math.max(da, db);
    }
    int batches = (int) Elements.numel(batch);
    int[] am = Elements.broadcastMap(aBatch, batch);
    int[] bm = Elements.broadcastMap(bBatch, batch);
    int[] ao = new int[batches];
    int[] bo = new int[batches];
    for (int i = 0; i < batches; i++) {
      ao[i] = (am == null ? i : am[i]) * m * k;
      bo[i] = (bm == null ? i : bm[i]) * k * n;
    }
    return new Plan(outShape, batches, ao, bo, m, k, n);
  }

  static Tensor[] matmul(Node node, Tensor[] in) {
    long[] outShape = OpShapes.outputShapes(node, in)[0];
    Plan p = plan(in[0].shape(), in[1].shape(), outShape);
    float[] a = in[0].toFloatArray();
    float[] b = in[1].toFloatArray();
    float[] c = new float[p.batches * p.m * p.n];
    for (int t = 0; t < p.batches; t++) {
      gemm(a, p.aOffset[t], b, p.bOffset[t], c, t * p.m * p.n, p.m, p.k, p.n);
    }
    return new Tensor[] {Tensor.ofFloat32(c, outShape)};
  }

  /** c[m x n] += a[m x k] * b[k x n], all row-major at the given offsets. */
  static void gemm(float[] a, int ao, float[] b, int bo, float[] c, int co, int m, int k, int n) {
    for (int i = 0; i < m; i++) {
      int ci = co + i * n;
      for (int kk = 0; kk < k; kk++) {
        float av = a[ao + i * k + kk];
        int bi = bo + kk * n;
        for (int j = 0; j < n; j++) {
          c[ci + j] += av * b[bi + j];
        }
      }
    }
  }

  static Tensor[] gemm(Node node, Tensor[] in) {
    long[] outShape = OpShapes.outputShapes(node, in)[0];
    boolean ta = node.intAttr("transA") == 1;
    boolean tb = node.intAttr("transB") == 1;
    float alpha = node.floatAttr("alpha");
    float beta = node.floatAttr("beta");
    int m = (int) outShape[0];
    int n = (int) outShape[1];
    int k = (int) (ta ? in[0].dim(0) : in[0].dim(1));
    float[] a = in[0].toFloatArray();
    float[] b = in[1].toFloatArray();
    if (ta) {
      a = transpose(a, k, m);
    }
    if (tb) {
      b = transpose(b, n, k);
    }
    float[] c = new float[m * n];
    gemm(a, 0, b, 0, c, 0, m, k, n);
    if (alpha != 1f) {
      for (int i = 0; i < c.length; i++) {
        c[i] *= alpha;
      }
    }
    if (in.length > 2 && in[2] != null && beta != 0f) {
      float[] bias = in[2].toFloatArray();
      int[] map = Elements.broadcastMap(in[2].shape(), outShape);
      for (int i = 0; i < c.length; i++) {
        c[i] += beta * bias[map == null ? i : map[i]];
      }
    }
    return new Tensor[] {Tensor.ofFloat32(c, outShape)};
  }

  /** The transpose of a rows x cols row-major matrix. */
  private static float[] transpose(float[] v, int rows, int cols) {
    float[] t = new float[v.length];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        t[c * rows + r] = v[r * cols + c];
      }
    }
    return t;
  }

  static Tensor[] matmulInteger(Node node, Tensor[] in) {
    long[] outShape = OpShapes.outputShapes(node, in)[0];
    int[] c = accumulate(in[0], in.length > 2 ? in[2] : null, in[1],
        in.length > 3 ? in[3] : null, outShape);
    return new Tensor[] {Tensor.ofInt32(c, outShape)};
  }

  /**
   * QLinearMatMul: the MatMulInteger sum requantized to y's scale, with per-row scales of A and
   * Y and per-column scales of B where given.
   */
  static Tensor[] qlinearMatmul(Node node, Tensor[] in) {
    long[] outShape = OpShapes.outputShapes(node, in)[0];
    Plan p = plan(in[0].shape(), in[3].shape(), outShape);
    int[] c = accumulate(in[0], in[2], in[3], in[5], outShape);
    float[] as = in[1].toFloatArray();
    float[] bs = in[4].toFloatArray();
    float[] ys = in[6].toFloatArray();
    int[] yz = Elements.quantized(in[7]);
    DType yType = in[7].dtype();
    int lo = Elements.qmin(yType);
    int hi = Elements.qmax(yType);
    for (int i = 0; i < c.length; i++) {
      int col = i % p.n;
      int row = (i / p.n) % p.m;
      float scale = as[as.length == 1 ? 0 : row] * bs[bs.length == 1 ? 0 : col]
          / ys[ys.length == 1 ? 0 : row];
      c[i] = Requant.apply(c[i], scale, yz[yz.length == 1 ? 0 : row], lo, hi);
    }
    return new Tensor[] {Elements.fromQuantized(yType, c, outShape)};
  }

  /**
   * The int32 products of (A - a_zero_point) and (B - b_zero_point), a zero point of A being
   * one value or one per row, of B one value or one per column.
   */
  private static int[] accumulate(Tensor at, Tensor aZero, Tensor bt, Tensor bZero,
      long[] outShape) {
    Plan p = plan(at.shape(), bt.shape(), outShape);
    int[] a = Elements.quantized(at);
    int[] b = Elements.quantized(bt);
    if (aZero != null) {
      int[] z = Elements.quantized(aZero);
      for (int i = 0; i < a.length; i++) {
        a[i] -= z[z.length == 1 ? 0 : (i / p.k) % p.m];
      }
    }
    if (bZero != null) {
      int[] z = Elements.quantized(bZero);
      for (int i = 0; i < b.length; i++) {
        b[i] -= z[z.length == 1 ? 0 : i % p.n];
      }
    }
    int[] c = new int[p.batches * p.m * p.n];
    for (int t = 0; t < p.batches; t++) {
      gemmInt(a, p.aOffset[t], b, p.bOffset[t], c, t * p.m * p.n, p.m, p.k, p.n);
    }
    return c;
  }

  /** {@link #gemm} on ints; int32 sums wrap as int32 accumulators do. */
  static void gemmInt(int[] a, int ao, int[] b, int bo, int[] c, int co, int m, int k, int n) {
    for (int i = 0; i < m; i++) {
      int ci = co + i * n;
      for (int kk = 0; kk < k; kk++) {
        int av = a[ao + i * k + kk];
        if (av == 0) {
          continue;
        }
        int bi = bo + kk * n;
        for (int j = 0; j < n; j++) {
          c[ci + j] += av * b[bi + j];
        }
      }
    }
  }
}
