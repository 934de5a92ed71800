package dev.systole.host.partition;

import dev.systole.driver.contract.DeviceParams;
import dev.systole.host.compile.DepthwiseLayer;
import dev.systole.host.compile.DeviceGraph;
import dev.systole.host.compile.Requant;
import dev.systole.host.compile.Window;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.Node;
import dev.systole.host.quantize.FixedPoint;
import dev.systole.host.quantize.QuantParams;
import dev.systole.host.tensor.DType;
import java.util.Arrays;
import java.util.List;

/**
 * A float 2-D AveragePool: a depthwise convolution whose weights are all 1, requantized by
 * {@code s_x / (s_y * kernel area)}, on the vector unit's VMAC. Padding counts as zeros
 * (count_include_pad = 1, the padded input's zero point cancels in the folded bias); with
 * count_include_pad = 0 the border windows would divide by fewer elements than the others,
 * which one multiplier per channel cannot, so such a pooling with padding stays on the CPU.
 */
final class AveragePoolOp implements DeviceOp {
  @Override
  public List<String> opTypes() {
    return List.of("AveragePool");
  }

  /** Its window comes from its attributes and its shapes from ONNX Runtime. */
  @Override
  public boolean takesOpaque() {
    return true;
  }

  @Override
  public Verdict lower(Node n, Partitioner p) {
    DeviceParams d = p.deviceParams();
    if (!d.hasVectorUnit()) {
      return Verdict.refuse("an average pooling needs the vector unit (this device has"
          + " VECTOR_UNIT = 0)");
    }
    if (!p.isFloat(n.input(0)) || p.rank(n.input(0)) != 4) {
      return Verdict.refuse("not a 2-D pooling of a float feature map");
    }
    Window w = p.window(n, null);
    if (w == null) {
      return Verdict.refuse("a window the device computes differently (pads over "
          + Window.MAX_PAD + ", or ceil_mode)");
    }
    boolean padded = w.padTop() + w.padLeft() + w.padBottom() + w.padRight() > 0;
    if (padded && n.attribute("count_include_pad").map(a -> a.asInt() == 0).orElse(true)) {
      return Verdict.refuse("padding left out of the average (count_include_pad = 0): the"
          + " border windows would divide by fewer elements");
    }
    int positions = w.kernelH() * w.kernelW();
    long blocks = (p.shape(n.input(0))[1] + d.lanes() - 1) / d.lanes();
    if (2L * positions > d.abufRows() || blocks * positions > d.wbufRows()) {
      return Verdict.refuse("a " + w.kernelH() + "x" + w.kernelW() + " window needs "
          + 2 * positions + " ABUF rows and " + blocks * positions + " WBUF rows (the device has "
          + d.abufRows() + " and " + d.wbufRows() + ")");
    }
    return Verdict.accept(new Op(this, Op.Kind.CONV, n, List.of(n.input(0))));
  }

  @Override
  public DeviceGraph.Node build(Op op, Segmenter.SegmentBuild s) {
    Partitioner p = s.partitioner();
    String x = op.inputs.get(0);
    Window w = p.window(op.anchor, null);
    int c = (int) p.shape(x)[1];
    int area = w.kernelH() * w.kernelW();
    QuantParams qx = s.inputQuant(x);
    QuantParams qy = p.params(op.output);
    FixedPoint f = FixedPoint.of((double) qx.scale() / ((double) qy.scale() * area));
    byte[] ones = new byte[c * area];
    Arrays.fill(ones, (byte) 1);
    int[] mult = new int[c];
    int[] shift = new int[c];
    Arrays.fill(mult, f.multiplier());
    Arrays.fill(shift, f.shift());
    s.record(op.output, qy, new Encoding.Quantized(qy));
    return s.builder().depthwise(op.anchor.name(), s.input(op, x), new DepthwiseLayer(c, w,
        ones, null, new Requant(mult, shift, qy.zeroPoint(), false)));
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
