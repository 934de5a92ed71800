package dev.systole.host.partition;

import dev.systole.host.compile.DeviceGraph;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.Node;
import java.util.Arrays;
import java.util.List;

/**
 * A Transpose between a feature map and its channels-last view (perm {@code [0, 2, 3, 1]} of an
 * NCHW map the open program makes, and {@code [0, 3, 1, 2]} back), as ConvNeXt writes around its
 * LayerNorm and MLP: no layer at all. The device keeps maps NHWC, which is the bytes of the
 * channels-last tensor already, so the view only changes which layout the value has
 * ({@link Boundary.Layout#MAP_LAST}). Any Transpose of rows of features the open program makes
 * (the heads of attention) is likewise a new view of the same buffer ({@link Strided}), and so
 * is one of rows from the host that only matrix products on the device read.
 */
final class TransposeView implements DeviceOp {
  private static final long[] TO_LAST = {0, 2, 3, 1};
  private static final long[] TO_FIRST = {0, 3, 1, 2};

  @Override
  public List<String> opTypes() {
    return List.of("Transpose");
  }

  /** A view takes its input as the program holds it. */
  @Override
  public boolean readsViews() {
    return true;
  }

  /** It reads only its perm attribute. */
  @Override
  public boolean takesOpaque() {
    return true;
  }

  @Override
  public Verdict lower(Node n, Partitioner p) {
    long[] perm = n.attribute("perm").map(a -> a.asInts()).orElse(null);
    String in = n.input(0);
    Strided rows = p.view(in);
    if (rows == null && hostRowsForGemms(n, p)) {
      rows = Strided.dense(p.shape(in));
    }
    if (rows != null && p.isFloat(in)) {
      if (perm == null) {
        perm = new long[rows.rank()];
        for (int i = 0; i < perm.length; i++) {
          perm[i] = perm.length - 1 - i;
        }
      }
      Op op = new Op(this, Op.Kind.VIEW, n, List.of(in));
      op.inputLayout = Boundary.Layout.ROWS;
      op.outputLayout = Boundary.Layout.ROWS;
      op.view = rows.transpose(perm);
      return Verdict.accept(op);
    }
    Boundary.Layout to;
    if (Arrays.equals(perm, TO_LAST) && p.producedAsFeatureMap(in)) {
      to = Boundary.Layout.MAP_LAST;
    } else if (Arrays.equals(perm, TO_FIRST) && p.producedChannelsLast(in)) {
      to = Boundary.Layout.NHWC;
    } else {
      return Verdict.refuse(null);
    }
    Op op = new Op(this, Op.Kind.VIEW, n, List.of(in));
    op.inputLayout = to == Boundary.Layout.NHWC ? Boundary.Layout.MAP_LAST
        : Boundary.Layout.NHWC;
    op.outputLayout = to;
    return Verdict.accept(op);
  }

  /**
   * Whether {@code n} transposes rows of features that come from the host (a transformer's
   * input, which PyTorch's attention turns sequence-first) and only matrix products by
   * constants the device runs read it: the value then crosses as it is, and the view is of it.
   */
  private static boolean hostRowsForGemms(Node n, Partitioner p) {
    String in = n.input(0);
    long[] s = p.shape(in);
    if (!p.isFloat(in) || p.producedOnDevice(in) || s == null || s.length < 2 || s.length > 3
        || p.isGraphOutput(n.output(0)) || p.params(in) == null) {
      return false;
    }
    List<Node> users = p.consumers(n.output(0));
    for (Node u : users) {
      boolean gemm = p.deviceOp(u).filter(d -> d instanceof GemmOp).isPresent()
          && !ProductOp.isProduct(u, p.graph());
      if (!gemm || !u.input(0).equals(n.output(0)) || !p.lower(u).accepted()) {
        return false;
      }
    }
    return !users.isEmpty();
  }

  @Override
  public DeviceGraph.Node build(Op op, Segmenter.SegmentBuild s) {
    String in = op.inputs.get(0);
    s.record(op.output, s.quant(in), s.encoding(in));
    return s.input(op, in);
  }

  @Override
  public DeviceGraph alone(Node n, Partitioner p) {
    return null;
  }

  @Override
  public boolean quantizes(Node n, Graph g) {
    return false;
  }
}
