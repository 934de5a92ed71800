package dev.systole.host.partition;

import dev.systole.host.compile.ConvLayer;
import dev.systole.host.compile.DeviceGraph;
import dev.systole.host.compile.Window;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.Node;
import java.util.List;

/**
 * QLinearConv and ConvInteger with constant weights, scales and zero points, group 1: run with
 * exactly their integer semantics, their weights fitting int8 once their zero point is off.
 */
final class IntegerConvOp implements DeviceOp {
  @Override
  public List<String> opTypes() {
    return List.of("QLinearConv", "ConvInteger");
  }

  @Override
  public boolean integer() {
    return true;
  }

  @Override
  public Verdict lower(Node n, Partitioner p) {
    boolean qlinear = n.opType().equals("QLinearConv");
    String x = n.input(0);
    String w = n.input(qlinear ? 3 : 1);
    if (p.rank(x) != 4) {
      return Verdict.refuse("a " + (p.rank(x) - 2) + "-D convolution (the device runs 2-D)");
    }
    if (!p.isConstant(w) || !p.constantInputs(n, 1)) {
      return Verdict.refuse("weights, scales or zero points are not constants");
    }
    if (n.intAttr("group") != 1) {
      return Verdict.refuse("grouped or depthwise (group " + n.intAttr("group") + ")");
    }
    if (p.window(n, p.constant(w).shape()) == null) {
      return Verdict.refuse("pads over " + Window.MAX_PAD);
    }
    Op op = new Op(this, Op.Kind.CONV, n, List.of(x));
    op.inputZeroPoint = p.deviceZeroPoint(n, x);
    p.integerLayer(n);
    return Verdict.accept(op);
  }

  @Override
  public DeviceGraph.Node build(Op op, Segmenter.SegmentBuild s) {
    Partitioner p = s.partitioner();
    IntegerLayer layer = p.integerLayer(op.anchor);
    s.record(op.output, null, layer.encoding());
    return s.conv(op, new ConvLayer(layer.inChannels(), layer.outChannels(),
        p.window(op.anchor, p.constant(layer.weightName()).shape()), layer.weights(),
        layer.bias(), layer.requant()));
  }

  @Override
  public DeviceGraph alone(Node n, Partitioner p) {
    return p.convAlone(n, n.input(n.opType().equals("QLinearConv") ? 3 : 1));
  }

  @Override
  public boolean quantizes(Node n, Graph g) {
    return false;
  }
}
