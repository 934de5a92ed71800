package dev.systole.host.partition;

import dev.systole.host.compile.DeviceGraph;
import dev.systole.host.compile.SoftmaxLayer;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.Node;
import dev.systole.host.quantize.QuantParams;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;
import java.util.List;

/**
 * A Where that masks attention scores with a constant mask and a very negative constant (a
 * causal decoder's {@code masked_fill(mask, -inf)}), read only by a Softmax over the last axis:
 * one masked VSOFTMAX. Masked scores have probability 0, so when each query keeps a prefix of
 * its keys, as a causal mask does, each run of scores is a softmax of its first few values and
 * the rest are written as the output's zero point; the masked values never exist on the device.
 * Any other mask stays on the CPU.
 */
final class MaskedSoftmaxOp implements DeviceOp {
  /** A constant at or below this is a mask: its exponential next to any score is 0. */
  private static final double MASKED = -1e4;

  @Override
  public List<String> opTypes() {
    return List.of("Where");
  }

  @Override
  public boolean readsViews() {
    return true;
  }

  /** It reads only its constant inputs; shapes come from ONNX Runtime. */
  @Override
  public boolean takesOpaque() {
    return true;
  }

  @Override
  public Verdict lower(Node n, Partitioner p) {
    if (!p.deviceParams().hasVectorUnit() || n.inputs().size() != 3) {
      return Verdict.refuse(!p.deviceParams().hasVectorUnit() ? "a masked softmax needs the"
          + " vector unit (this device has VECTOR_UNIT = 0)" : null);
    }
    Tensor cond = p.constant(n.input(0));
    boolean maskIsThen = masking(p.constant(n.input(1)));
    boolean maskIsElse = masking(p.constant(n.input(2)));
    if (cond == null || cond.dtype() != DType.BOOL || maskIsThen == maskIsElse) {
      return Verdict.refuse("not a constant mask of attention scores by a very negative"
          + " constant");
    }
    String x = n.input(maskIsThen ? 2 : 1);
    List<Node> users = p.consumers(n.output(0));
    Node softmax = users.size() == 1 ? users.get(0) : null;
    if (softmax == null || !softmax.opType().equals("Softmax") || !softmax.domain().isEmpty()
        || p.isGraphOutput(n.output(0))) {
      return Verdict.refuse("a mask not read by one Softmax alone");
    }
    Verdict alone = new SoftmaxOp().lower(softmax, p, x);
    if (!alone.accepted()) {
      return alone;
    }
    long[] shape = p.shape(x);
    int[] keep = prefixes(cond, shape, maskIsThen);
    if (keep == null) {
      return Verdict.refuse("a mask that does not keep a prefix of each query's scores");
    }
    Op op = new Op(this, Op.Kind.ELEMENTWISE, n, List.of(x));
    op.nodes.add(softmax);
    op.output = softmax.output(0);
    op.keep = keep;
    return Verdict.accept(op);
  }

  private static boolean masking(Tensor t) {
    return t != null && t.dtype() == DType.FLOAT32 && t.numel() == 1
        && t.getFloat32(0) <= MASKED;
  }

  /**
   * For each query (the second to last axis of {@code shape}), how many of its keys the mask
   * keeps, all of them first; null if a row keeps anything else, none, or the mask differs
   * along any other axis.
   */
  private static int[] prefixes(Tensor cond, long[] shape, boolean masksWhenTrue) {
    int rank = shape.length;
    long[] c = cond.shape();
    if (rank < 2 || c.length > rank) {
      return null;
    }
    long[] full = new long[rank];
    java.util.Arrays.fill(full, 1);
    System.arraycopy(c, 0, full, rank - c.length, c.length);
    for (int i = 0; i < rank - 2; i++) {
      if (full[i] != 1) {
        return null;
      }
    }
    long rows = full[rank - 2];
    long cols = full[rank - 1];
    long queries = shape[rank - 2];
    long keys = shape[rank - 1];
    if (rows != 1 && rows != queries || cols != keys) {
      return null;
    }
    int[] keep = new int[(int) queries];
    for (int q = 0; q < queries; q++) {
      long row = rows == 1 ? 0 : q;
      int kept = 0;
      boolean ended = false;
      for (int k = 0; k < keys; k++) {
        boolean masked = cond.getBool(row * cols + k) == masksWhenTrue;
        if (!masked && ended) {
          return null;
        }
        if (masked) {
          ended = true;
        } else {
          kept++;
        }
      }
      if (kept == 0) {
        return null;
      }
      keep[q] = kept;
    }
    return keep;
  }

  @Override
  public DeviceGraph.Node build(Op op, Segmenter.SegmentBuild s) {
    String x = op.inputs.get(0);
    Strided v = s.view(x);
    int rank = v.rank();
    int width = (int) v.size(rank - 1);
    QuantParams qx = s.inputQuant(x);
    QuantParams qy = s.partitioner().params(op.output);
    // The run at each buffer offset is of query idx[rank - 2] of the view.
    int[] valid = new int[Math.toIntExact(v.numel() / width)];
    long[] sh = v.shape();
    long[] idx = new long[rank];
    for (long i = 0; i < v.numel() / width; i++) {
      long rem = i;
      long at = 0;
      for (int a = rank - 2; a >= 0; a--) {
        idx[a] = rem % sh[a];
        rem /= sh[a];
        at += idx[a] * v.stride(a);
      }
      valid[(int) (at / width)] = op.keep[(int) idx[rank - 2]];
    }
    s.record(op.output, qy, new Encoding.Quantized(qy));
    return s.builder().softmax(op.anchor.name(), s.input(op, x),
        SoftmaxLayer.of(width, qx.scale(), qy.scale(), qy.zeroPoint()).masked(valid));
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
