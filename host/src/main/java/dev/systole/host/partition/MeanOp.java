package dev.systole.host.partition;

import dev.systole.host.compile.ChannelReduceLayer;
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
 * and rescales (CONTRACT.md 11.8). A ReduceMean over the channels is VREDUCE across each
 * pixel's lanes ({@link ChannelReduceLayer}), and one that begins a layer normalization written
 * as nodes is that normalization ({@link NormOp#lowerDecomposed}). The result is {@code 1 x 1 x C} per item, the same bytes as
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
    Reductions.Over over = n.opType().equals("GlobalAveragePool") ? Reductions.Over.PIXELS
        : Reductions.of(n, p);
    if (over == Reductions.Over.OTHER) {
      return Verdict.refuse("a mean over axes " + n.attribute("axes").map(a ->
          java.util.Arrays.toString(a.asInts())).orElse("(all, or given as an input)")
          + " (the device takes it over the spatial axes [2, 3] or the channels [1], kept)");
    }
    if (over == Reductions.Over.CHANNELS && !Reductions.keeps(n)) {
      return Verdict.refuse("a mean over the channels without keepdims");
    }
    if (over == Reductions.Over.CHANNELS && !p.producedAsFeatureMap(n.input(0))) {
      return Verdict.refuse("its input does not come from a device layer (alone, it would"
          + " only add a trip to the device)");
    }
    return Verdict.accept(new Op(this, Op.Kind.MEAN, n, List.of(n.input(0))));
  }


  @Override
  public DeviceGraph.Node build(Op op, Segmenter.SegmentBuild s) {
    String x = op.inputs.get(0);
    DeviceGraph.Node in = s.input(op, x);
    QuantParams qx = s.inputQuant(x);
    QuantParams qy = s.partitioner().params(op.output);
    s.record(op.output, qy, new Encoding.Quantized(qy));
    if (!op.anchor.opType().equals("GlobalAveragePool")
        && Reductions.of(op.anchor, s.partitioner()) == Reductions.Over.CHANNELS) {
      FixedPoint f = FixedPoint.of(qx.scale() / (qy.scale() * in.shape().channels()));
      return s.builder().channelReduce(op.anchor.name(), in, new ChannelReduceLayer(false,
          new Requant(new int[] {f.multiplier()}, new int[] {f.shift()}, qy.zeroPoint(),
              false)));
    }
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
