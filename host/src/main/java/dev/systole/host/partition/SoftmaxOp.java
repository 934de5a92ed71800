package dev.systole.host.partition;

import dev.systole.host.compile.DeviceGraph;
import dev.systole.host.compile.SoftmaxLayer;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.Node;
import dev.systole.host.quantize.QuantParams;
import dev.systole.host.tensor.DType;
import java.util.List;

/**
 * A float Softmax over the last axis of rows of features the open program makes: the
 * contract's integer VSOFTMAX (7.7), one group per vector. Each vector must be a contiguous run
 * of the buffer, so the scores of attention, stored token-major by {@link ProductOp}, are taken
 * as they are; the result keeps the input's view.
 */
final class SoftmaxOp implements DeviceOp {
  @Override
  public List<String> opTypes() {
    return List.of("Softmax");
  }

  @Override
  public boolean readsViews() {
    return true;
  }

  @Override
  public Verdict lower(Node n, Partitioner p) {
    return lower(n, p, n.input(0));
  }

  /** Softmax {@code n} as if it read {@code x} (what a mask before it passes through). */
  Verdict lower(Node n, Partitioner p, String x) {
    if (!p.deviceParams().hasVectorUnit()) {
      return Verdict.refuse("a softmax needs the vector unit (this device has VECTOR_UNIT = 0)");
    }
    Strided v = p.view(x);
    if (!p.isFloat(x) || v == null) {
      return Verdict.refuse("not a softmax of float rows a device layer of this program makes");
    }
    int rank = v.rank();
    long def = p.graph().opset() < 13 ? 1 : -1;
    long axis = n.attribute("axis").map(a -> a.asInt()).orElse(def);
    if (Math.floorMod(axis, rank) != rank - 1) {
      return Verdict.refuse("a softmax over axis " + axis + " of rank " + rank + " (the device"
          + " takes the last)");
    }
    long width = v.size(rank - 1);
    Integer rows = p.programRows();
    if (!v.rowsOfLast() || rows == null || v.numel() / rows % width != 0) {
      return Verdict.refuse("its vectors are not whole contiguous runs of the program's rows");
    }
    int d = p.deviceParams().lanes();
    long groupRows = (width + d - 1) / d;
    if (groupRows > p.deviceParams().abufRows() / 2 || width > 65535) {
      return Verdict.refuse("vectors of " + width + " values (the device's softmax takes at most"
          + " " + Math.min(65535, p.deviceParams().abufRows() / 2 * d) + ")");
    }
    return Verdict.accept(new Op(this, Op.Kind.ELEMENTWISE, n, List.of(x)));
  }

  @Override
  public DeviceGraph.Node build(Op op, Segmenter.SegmentBuild s) {
    String x = op.inputs.get(0);
    Strided v = s.view(x);
    int width = (int) v.size(v.rank() - 1);
    QuantParams qx = s.inputQuant(x);
    QuantParams qy = s.partitioner().params(op.output);
    s.record(op.output, qy, new Encoding.Quantized(qy));
    return s.builder().softmax(op.anchor.name(), s.input(op, x),
        SoftmaxLayer.of(width, qx.scale(), qy.scale(), qy.zeroPoint()));
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
