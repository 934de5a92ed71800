package dev.systole.host.partition;

import dev.systole.host.compile.DeviceGraph;
import dev.systole.host.compile.MeanLayer;
import dev.systole.host.compile.Requant;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.Node;
import dev.systole.host.quantize.FixedPoint;
import dev.systole.host.quantize.QuantParams;
import dev.systole.host.tensor.DType;
import java.util.List;

/**
 * A float GlobalAveragePool, or a ReduceMean over the two spatial axes of an NCHW map: the
 * vector unit's VREDUCE down the pixels, then one requantization that divides by the pixel count
 * and rescales (CONTRACT.md 11.8). The result is {@code 1 x 1 x C} per item, the same bytes as
 * a row of C features, so it feeds a flatten and a GEMM as it is.
 */
final class MeanOp implements DeviceOp {
  @Override
  public List<String> opTypes() {
    return List.of("GlobalAveragePool", "ReduceMean");
  }

  /** It reads only the axes attribute, and its shapes come from ONNX Runtime. */
  @Override
  public boolean takesOpaque() {
    return true;
  }

  private static final NormOp NORM = new NormOp();

  @Override
  public Verdict lower(Node n, Partitioner p) {
    if (n.opType().equals("ReduceMean")) {
      Verdict norm = NormOp.lowerDecomposed(NORM, n, p);
      if (norm != null) {
        return norm;
      }
    }
    if (!p.deviceParams().hasVectorUnit()) {
      return Verdict.refuse("a mean needs the vector unit (this device has VECTOR_UNIT = 0)");
    }
    if (!p.isFloat(n.input(0))) {
      return Verdict.refuse("input is " + p.typeLabel(n.input(0)));
    }
    if (p.rank(n.input(0)) != 4) {
      return Verdict.refuse("a mean of a rank-" + p.rank(n.input(0)) + " tensor (the device"
          + " takes the mean of a feature map's pixels)");
    }
    if (n.opType().equals("ReduceMean") && !spatial(n)) {
      return Verdict.refuse("a mean over axes " + n.attribute("axes").map(a ->
          java.util.Arrays.toString(a.asInts())).orElse("(all)") + " (the device takes it"
          + " over the spatial axes [2, 3])");
    }
    return Verdict.accept(new Op(this, Op.Kind.MEAN, n, List.of(n.input(0))));
  }

  /** Whether a ReduceMean reduces exactly axes 2 and 3 of its rank-4 input. */
  private static boolean spatial(Node n) {
    long[] axes = n.attribute("axes").map(a -> a.asInts()).orElse(null);
    if (axes == null || axes.length != 2) {
      return false;
    }
    long a = Math.floorMod(axes[0], 4);
    long b = Math.floorMod(axes[1], 4);
    return Math.min(a, b) == 2 && Math.max(a, b) == 3;
  }

  @Override
  public DeviceGraph.Node build(Op op, Segmenter.SegmentBuild s) {
    String x = op.inputs.get(0);
    DeviceGraph.Node in = s.input(op, x);
    QuantParams qx = s.inputQuant(x);
    QuantParams qy = s.partitioner().params(op.output);
    s.record(op.output, qy, new Encoding.Quantized(qy));
    long pixels = (long) in.shape().height() * in.shape().width();
    FixedPoint f = FixedPoint.of(qx.scale() / (qy.scale() * (double) pixels));
    return s.builder().mean(op.anchor.name(), in, new MeanLayer(new Requant(
        new int[] {f.multiplier()}, new int[] {f.shift()}, qy.zeroPoint(), false)));
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
