package dev.systole.host.partition;

import dev.systole.driver.contract.DeviceParams;
import dev.systole.host.compile.DeviceGraph;
import dev.systole.host.compile.Window;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.Node;
import dev.systole.host.tensor.DType;
import java.util.List;

/**
 * A float Conv: 2-D, constant weights and bias, any stride, padding, auto_pad and dilation the
 * device's window takes. A depthwise convolution (one filter per input channel) runs on the
 * vector unit's VMAC, D useful lanes a cycle, where on the array each channel would be one lane
 * of a D x D tile; a device without the unit leaves it to the CPU. Other grouped convolutions
 * run on the array with block-diagonal weights: each group's channels are a block of the dense
 * layer's K x N matrix, and the zeros around the blocks cost MACs but no accuracy.
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
    long[] w = p.constant(n.input(1)).shape();
    Window window = p.window(n, w);
    if (window == null) {
      return Verdict.refuse("pads over " + Window.MAX_PAD);
    }
    if (depthwise(n, p)) {
      DeviceParams d = p.deviceParams();
      if (!d.hasVectorUnit()) {
        return Verdict.refuse("a depthwise convolution needs the vector unit (this device has"
            + " VECTOR_UNIT = 0)");
      }
      int positions = window.kernelH() * window.kernelW();
      long blocks = (w[0] + d.lanes() - 1) / d.lanes();
      if (2L * positions > d.abufRows() || blocks * positions > d.wbufRows()) {
        return Verdict.refuse("a depthwise " + window.kernelH() + "x" + window.kernelW()
            + " kernel over " + w[0] + " channels needs " + 2 * positions + " ABUF rows and "
            + blocks * positions + " WBUF rows (the device has " + d.abufRows() + " and "
            + d.wbufRows() + ")");
      }
    }
    return Verdict.accept(new Op(this, Op.Kind.CONV, n, List.of(n.input(0))));
  }

  /** Whether {@code n} has one filter per input channel, each reading its own channel. */
  static boolean depthwise(Node n, Partitioner p) {
    long group = n.intAttr("group");
    long[] w = p.constant(n.input(1)).shape();
    long[] x = p.shape(n.input(0));
    return group > 1 && w[0] == group && w[1] == 1 && x != null && x.length == 4
        && x[1] == group;
  }

  @Override
  public java.util.Set<Epilogues.Part> epilogue() {
    return java.util.EnumSet.of(Epilogues.Part.BATCH_NORM, Epilogues.Part.ACTIVATION);
  }

  @Override
  public DeviceGraph.Node build(Op op, Segmenter.SegmentBuild s) {
    if (depthwise(op.anchor, s.partitioner())) {
      return s.builder().depthwise(op.anchor.name(), s.input(op, op.inputs.get(0)),
          FloatLayers.depthwise(op, s));
    }
    return s.conv(op, FloatLayers.conv(op, s));
  }

  @Override
  public DeviceGraph alone(Node n, Partitioner p) {
    return depthwise(n, p) ? null : p.convAlone(n, n.input(1));
  }

  @Override
  public boolean quantizes(Node n, Graph g) {
    return g.dtype(n.input(0)) == DType.FLOAT32;
  }
}
