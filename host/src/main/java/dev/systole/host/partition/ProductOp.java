package dev.systole.host.partition;

import dev.systole.host.compile.DeviceGraph;
import dev.systole.host.compile.ProductLayer;
import dev.systole.host.compile.TableLayer;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.Node;
import dev.systole.host.quantize.FixedPoint;
import dev.systole.host.quantize.QuantParams;
import dev.systole.host.tensor.DType;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * A float MatMul of two activations the open program holds as rows of features: attention's
 * {@code Q Kᵀ} and {@code P V}, batched over every leading axis. Each operand is read through
 * its view of the program's buffers ({@link Strided}), so the head splits and transposes before
 * it cost nothing: A needs its rows contiguous, B its rows or its columns (Kᵀ is a transposed
 * view of K, loaded by columns and turned into weight tiles by VTRANS). The result is stored
 * where A's rows are, each row of A becoming a row of the result, so it is a view of the same
 * shape as A's; for attention that is token-major, and the Transpose and Reshape that merge
 * the heads after {@code P V} see it in order.
 *
 * <p>Both operands are quantized symmetrically (the partitioner sees to it for every value a
 * product reads), as the array has no zero-point correction; an operand that arrives with
 * another zero point is mapped to a symmetric one by a table first. Not registered by type:
 * {@link GemmOp} hands it the MatMuls whose B is not a constant.
 */
final class ProductOp implements DeviceOp {
  static final ProductOp INSTANCE = new ProductOp();

  /** The ops whose output is a view of their input's values, which a product reads through. */
  static final Set<String> VIEWS = Set.of("Transpose", "Reshape", "Squeeze", "Unsqueeze",
      "Flatten");

  private ProductOp() {}

  /** Whether {@code n} is a float MatMul of two values that are not constants. */
  static boolean isProduct(Node n, Graph g) {
    return n.domain().isEmpty() && n.opType().equals("MatMul") && n.inputs().size() == 2
        && !g.initializers().containsKey(n.input(0))
        && !g.initializers().containsKey(n.input(1))
        && g.dtype(n.input(0)) == DType.FLOAT32 && g.dtype(n.input(1)) == DType.FLOAT32;
  }

  @Override
  public List<String> opTypes() {
    return List.of();
  }

  @Override
  public boolean readsViews() {
    return true;
  }

  @Override
  public Verdict lower(Node n, Partitioner p) {
    if (!p.deviceParams().hasVectorUnit()) {
      return Verdict.refuse("a product of two activations needs the vector unit (this device"
          + " has VECTOR_UNIT = 0)");
    }
    String a = n.input(0);
    String b = n.input(1);
    Strided va = p.view(a);
    Strided vb = p.view(b);
    if (va == null || vb == null) {
      return Verdict.refuse("a product of two activations needs both from device layers of"
          + " this program, as rows of features");
    }
    Geometry geo = geometry(va, vb, p.programRows());
    if (geo.refusal != null) {
      return Verdict.refuse(geo.refusal);
    }
    int d = p.deviceParams().lanes();
    int kcs = (geo.k + d - 1) / d;
    if ((long) kcs * d > p.deviceParams().wbufRows()
        || (p.deviceParams().abufRows() - kcs * d) / (kcs + 1) < 1) {
      return Verdict.refuse("a product over " + geo.k + " values, more than the device's"
          + " buffers hold (" + p.deviceParams().wbufRows() + " WBUF rows)");
    }
    Op op = new Op(this, Op.Kind.GEMM, n, List.of(a, b));
    op.inputLayout = Boundary.Layout.ROWS;
    op.outputLayout = Boundary.Layout.ROWS;
    op.view = geo.out;
    return Verdict.accept(op);
  }

  /** Where a product's operands and result are, or why the device cannot read them. */
  private record Geometry(String refusal, Strided out, int m, int k, int n, long[] aBase,
      long aRow, long[] bBase, long bK, long bN, long[] cBase, long cRow, long outFeatures) {
    static Geometry refuse(String why) {
      return new Geometry(why, null, 0, 0, 0, null, 0, null, 0, 0, null, 0, 0);
    }
  }

  private static Geometry geometry(Strided a, Strided b, Integer rows) {
    int r = a.rank();
    if (r < 2 || b.rank() != r) {
      return Geometry.refuse("operands of rank " + a.rank() + " and " + b.rank()
          + " (expected the same rank, at least 2)");
    }
    long[] as = a.shape();
    long[] bs = b.shape();
    for (int i = 0; i < r - 2; i++) {
      if (as[i] != bs[i]) {
        return Geometry.refuse("batch axes " + Arrays.toString(as) + " and "
            + Arrays.toString(bs) + " (the device multiplies equal batches; no broadcasting)");
      }
    }
    if (as[r - 1] != bs[r - 2]) {
      return Geometry.refuse("A of " + as[r - 1] + " columns by B of " + bs[r - 2] + " rows");
    }
    if (!a.rowsOfLast()) {
      return Geometry.refuse("A's rows are not contiguous in the buffer (a transposed view)");
    }
    long bK = bs[r - 2] == 1 ? 1 : b.stride(r - 2);
    long bN = bs[r - 1] == 1 ? 1 : b.stride(r - 1);
    if (bK != 1 && bN != 1) {
      return Geometry.refuse("neither B's rows nor its columns are contiguous in the buffer");
    }
    long m = as[r - 2];
    long k = as[r - 1];
    long n = bs[r - 1];
    if (rows == null || a.numel() % rows != 0 || a.numel() / rows % k != 0) {
      return Geometry.refuse("A's rows do not fill the program's rows evenly");
    }
    if (m > 65535 || k > 65535 || n > 65535) {
      return Geometry.refuse("a product of " + m + "x" + k + " by " + k + "x" + n
          + " (expected each size at most 65535)");
    }
    Strided out = a.withLast(n);
    int batches = Math.toIntExact(a.numel() / (m * k));
    long[] aBase = new long[batches];
    long[] bBase = new long[batches];
    long[] cBase = new long[batches];
    long[] idx = new long[Math.max(0, r - 2)];
    for (int g = 0; g < batches; g++) {
      long rem = g;
      for (int i = r - 3; i >= 0; i--) {
        idx[i] = rem % as[i];
        rem /= as[i];
      }
      for (int i = 0; i < r - 2; i++) {
        aBase[g] += idx[i] * a.stride(i);
        bBase[g] += idx[i] * b.stride(i);
        cBase[g] += idx[i] * out.stride(i);
      }
    }
    long aRow = m == 1 ? k : a.stride(r - 2);
    long cRow = m == 1 ? n : out.stride(r - 2);
    return new Geometry(null, out, (int) m, (int) k, (int) n, aBase, aRow, bBase,
        bK, bN, cBase, cRow, a.numel() / rows / k * n);
  }

  @Override
  public DeviceGraph.Node build(Op op, Segmenter.SegmentBuild s) {
    Partitioner p = s.partitioner();
    String a = op.inputs.get(0);
    String b = op.inputs.get(1);
    Geometry geo = geometry(s.view(a), s.view(b), s.rows());
    if (geo.refusal != null) {
      throw new IllegalStateException("product '" + op.anchor.name() + "': " + geo.refusal);
    }
    DeviceGraph.Node da = symmetric(op, s, a, "a");
    DeviceGraph.Node db = symmetric(op, s, b, "b");
    double sa = Partitioner.symmetric(s.inputQuant(a)).scale();
    double sb = Partitioner.symmetric(s.inputQuant(b)).scale();
    QuantParams qy = p.params(op.output);
    FixedPoint f = FixedPoint.of(sa * sb / qy.scale());
    s.record(op.output, qy, new Encoding.Quantized(qy));
    ProductLayer layer = new ProductLayer(s.rows(), Math.toIntExact(geo.outFeatures), geo.m,
        geo.k, geo.n, geo.aBase, geo.aRow, geo.bBase, geo.bK, geo.bN, geo.cBase, geo.cRow,
        f.multiplier(), f.shift(), qy.zeroPoint());
    return s.builder().product(op.anchor.name(), da, db, layer);
  }

  /**
   * The device node of operand {@code value}, with zero point 0: as it is, or mapped by a table
   * to the symmetric quantization that covers its range.
   */
  private static DeviceGraph.Node symmetric(Op op, Segmenter.SegmentBuild s, String value,
      String which) {
    DeviceGraph.Node in = s.input(op, value);
    if (in.zeroPoint() == 0) {
      return in;
    }
    QuantParams q = s.inputQuant(value);
    QuantParams sym = Partitioner.symmetric(q);
    return s.helper(s.builder().table(op.anchor.name() + ":" + which + "-symmetric", in,
        new TableLayer(Functions.rescale(q, sym), 0)));
  }

  @Override
  public DeviceGraph alone(Node n, Partitioner p) {
    return null;
  }

  @Override
  public boolean quantizes(Node n, Graph g) {
    return g.dtype(n.input(0)) == DType.FLOAT32;
  }
}
