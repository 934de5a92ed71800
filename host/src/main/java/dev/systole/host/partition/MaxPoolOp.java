package dev.systole.host.partition;

import dev.systole.host.compile.DeviceGraph;
import dev.systole.host.compile.MaxPoolLayer;
import dev.systole.host.compile.Window;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.Node;
import dev.systole.host.tensor.DType;
import java.util.List;

/**
 * A 2-D MaxPool of a float or 8-bit feature map, without the Indices output: the contract's
 * VMAX over windows. Its output keeps its input's quantization, as a maximum of codes is the
 * code of the maximum.
 */
final class MaxPoolOp implements DeviceOp {
  @Override
  public List<String> opTypes() {
    return List.of("MaxPool");
  }

  @Override
  public Verdict lower(Node n, Partitioner p) {
    if (n.hasOutput(1)) {
      return Verdict.refuse("the Indices output");
    }
    if (p.rank(n.input(0)) != 4) {
      return Verdict.refuse("a " + (p.rank(n.input(0)) - 2) + "-D pooling (the device runs"
          + " 2-D)");
    }
    if (!(p.isFloat(n.input(0)) || p.isInteger8(n.input(0)))) {
      return Verdict.refuse("input is " + p.typeLabel(n.input(0)));
    }
    if (p.window(n, null) == null) {
      return Verdict.refuse("pads over " + Window.MAX_PAD);
    }
    return Verdict.accept(new Op(this, Op.Kind.MAX_POOL, n, List.of(n.input(0))));
  }

  @Override
  public DeviceGraph.Node build(Op op, Segmenter.SegmentBuild s) {
    String x = op.inputs.get(0);
    DeviceGraph.Node in = s.input(op, x);
    s.keepQuant(x, op.output);
    return s.builder().maxPool(op.anchor.name(), in, layer(op.anchor, s.partitioner()));
  }

  private static MaxPoolLayer layer(Node n, Partitioner p) {
    boolean ceil = n.attribute("ceil_mode").map(a -> a.asInt() == 1).orElse(false)
        && n.stringAttr("auto_pad").equals("NOTSET");
    return new MaxPoolLayer(p.window(n, null), ceil);
  }

  @Override
  public DeviceGraph alone(Node n, Partitioner p) {
    if (p.window(n, null) == null || p.rank(n.input(0)) != 4) {
      return null;
    }
    DeviceGraph.Builder b = DeviceGraph.builder();
    b.output(b.maxPool("pool", b.input("in", Partitioner.imageShape(p.shape(n.input(0))), 0),
        layer(n, p)));
    return b.build();
  }

  @Override
  public boolean quantizes(Node n, Graph g) {
    return g.dtype(n.input(0)) == DType.FLOAT32;
  }
}
