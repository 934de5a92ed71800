package dev.systole.host.partition;

import dev.systole.host.compile.ConvLayer;
import dev.systole.host.compile.DeviceGraph;
import dev.systole.host.compile.Window;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.Node;
import dev.systole.host.tensor.DType;
import java.util.List;

/**
 * A float Conv: 2-D, group 1, constant weights and bias, any stride, padding, auto_pad and
 * dilation the device's window takes. Depthwise and grouped convolutions stay on the CPU: on the
 * array each group would be a block of a D x D weight tile, mostly zeros.
 */
final class ConvOp implements DeviceOp {
  @Override
  public List<String> opTypes() {
    return List.of("Conv");
  }

  @Override
  public Verdict lower(Node n, Partitioner p) {
    if (!p.isFloat(n.input(0))) {
      return Verdict.refuse("input is " + p.typeLabel(n.input(0)));
    }
    if (p.rank(n.input(0)) != 4) {
      return Verdict.refuse("a " + (p.rank(n.input(0)) - 2) + "-D convolution (the device runs"
          + " 2-D)");
    }
    if (!p.isConstant(n.input(1)) || n.hasInput(2) && !p.isConstant(n.input(2))) {
      return Verdict.refuse("weights or bias are not constants");
    }
    if (n.intAttr("group") != 1) {
      return Verdict.refuse("grouped or depthwise (group " + n.intAttr("group") + "): on the"
          + " array its weight tiles would be mostly zeros");
    }
    if (p.window(n, p.constant(n.input(1)).shape()) == null) {
      return Verdict.refuse("pads over " + Window.MAX_PAD);
    }
    return Verdict.accept(new Op(this, Op.Kind.CONV, n, List.of(n.input(0))));
  }

  @Override
  public java.util.Set<Epilogues.Part> epilogue() {
    return java.util.EnumSet.of(Epilogues.Part.BATCH_NORM, Epilogues.Part.ACTIVATION);
  }

  @Override
  public DeviceGraph.Node build(Op op, Segmenter.SegmentBuild s) {
    return s.conv(op, FloatLayers.conv(op, s));
  }

  @Override
  public DeviceGraph alone(Node n, Partitioner p) {
    return p.convAlone(n, n.input(1));
  }

  @Override
  public boolean quantizes(Node n, Graph g) {
    return g.dtype(n.input(0)) == DType.FLOAT32;
  }
}
