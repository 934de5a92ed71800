package dev.systole.host.partition;

import dev.systole.host.compile.DeviceGraph;
import dev.systole.host.compile.SliceLayer;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.Node;
import dev.systole.host.quantize.QuantParams;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;
import java.util.List;

/**
 * A float Slice of a run of channels of a feature map, or of features of rows (constant starts
 * and ends, step 1, every other axis whole): addressing only, the channels loaded from their
 * offset (the two halves of a ShuffleNet block's input, the queries, keys and values of a
 * transformer's joint projection).
 */
final class SliceOp implements DeviceOp {
  /** Its starts and ends are read as constants and its shapes come from ONNX Runtime. */
  @Override
  public boolean takesOpaque() {
    return true;
  }

  @Override
  public List<String> opTypes() {
    return List.of("Slice");
  }

  @Override
  public Verdict lower(Node n, Partitioner p) {
    if (!p.deviceParams().hasVectorUnit()) {
      return Verdict.refuse("a slice needs the vector unit (this device has VECTOR_UNIT = 0)");
    }
    String x = n.input(0);
    Strided rows = p.view(x);
    boolean map = p.rank(x) == 4 && p.producedAsFeatureMap(x);
    if (!p.isFloat(x) || !map && (rows == null || !rows.inOrder())) {
      return Verdict.refuse("not a slice of a float feature map or of rows in order a device"
          + " layer makes");
    }
    int[] range = channels(n, p);
    if (range == null) {
      return Verdict.refuse("a slice of other axes than the channels, or with a step (the"
          + " device takes a run of channels)");
    }
    return Verdict.accept(new Op(this, Op.Kind.MAP, n, List.of(x)));
  }

  /**
   * {@code [first, count]} of the channels (of a rank-4 map) or features (the last axis of rows)
   * {@code n} takes, or null if it is no such slice.
   */
  static int[] channels(Node n, Partitioner p) {
    long[] shape = p.shape(n.input(0));
    int rank = shape.length;
    int run = p.producedAsFeatureMap(n.input(0)) ? 1 : rank - 1;
    for (int i = 1; i < n.inputs().size(); i++) {
      if (n.hasInput(i) && !p.isConstant(n.input(i))) {
        return null;
      }
    }
    if (n.inputs().size() < 3) {
      return null;
    }
    long[] starts = longs(p.constant(n.input(1)));
    long[] ends = longs(p.constant(n.input(2)));
    long[] axes = n.hasInput(3) ? longs(p.constant(n.input(3))) : null;
    long[] steps = n.hasInput(4) ? longs(p.constant(n.input(4))) : null;
    if (starts == null || ends == null || starts.length != ends.length) {
      return null;
    }
    long first = 0;
    long end = shape[run];
    for (int i = 0; i < starts.length; i++) {
      int axis = (int) Math.floorMod(axes == null ? i : axes[i], rank);
      if (steps != null && steps[i] != 1) {
        return null;
      }
      long dim = shape[axis];
      long s = clamp(starts[i] < 0 ? starts[i] + dim : starts[i], dim);
      long e = clamp(ends[i] < 0 ? ends[i] + dim : ends[i], dim);
      if (axis == run) {
        first = s;
        end = e;
      } else if (s != 0 || e != dim) {
        return null;
      }
    }
    return end > first ? new int[] {(int) first, (int) (end - first)} : null;
  }

  private static long clamp(long v, long dim) {
    return Math.max(0, Math.min(dim, v));
  }

  private static long[] longs(Tensor t) {
    if (t == null || t.dtype() != DType.INT64 && t.dtype() != DType.INT32) {
      return null;
    }
    long[] v = new long[(int) t.numel()];
    for (int i = 0; i < v.length; i++) {
      v[i] = t.dtype() == DType.INT64 ? t.getInt64(i) : t.getInt32(i);
    }
    return v;
  }

  @Override
  public DeviceGraph.Node build(Op op, Segmenter.SegmentBuild s) {
    String x = op.inputs.get(0);
    int[] range = channels(op.anchor, s.partitioner());
    QuantParams qy = s.partitioner().params(op.output);
    byte[] table = Functions.rescale(s.inputQuant(x), qy);
    s.record(op.output, qy, new Encoding.Quantized(qy));
    return s.builder().slice(op.anchor.name(), s.input(op, x), new SliceLayer(range[0], range[1],
        table, qy.zeroPoint()));
  }

  @Override
  public DeviceGraph alone(Node n, Partitioner p) {
    return null;
  }

  @Override
  public boolean quantizes(Node n, Graph g) {
    return g.dtype(n.output(0)) == DType.FLOAT32;
  }
}
