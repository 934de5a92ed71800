package dev.systole.host.partition;

import dev.systole.host.compile.ChannelReduceLayer;
import dev.systole.host.compile.DeviceGraph;
import dev.systole.host.compile.MaxPoolLayer;
import dev.systole.host.compile.Window;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.Node;
import dev.systole.host.tensor.DType;
import java.util.List;

/**
 * The maximum of a feature map over its pixels (GlobalMaxPool, ReduceMax over axes 2 and 3) or
 * over its channels (ReduceMax over axis 1), the reduced axes kept: a max pooling whose window
 * is the whole image, or VREDUCE across each pixel's lanes. A maximum of codes is the code of
 * the maximum, so the output keeps the input's quantization.
 */
final class MaxReduceOp implements DeviceOp {
  @Override
  public List<String> opTypes() {
    return List.of("GlobalMaxPool", "ReduceMax");
  }

  /** It reads only its axes; its shapes come from ONNX Runtime. */
  @Override
  public boolean takesOpaque() {
    return true;
  }

  @Override
  public Verdict lower(Node n, Partitioner p) {
    String x = n.input(0);
    if (!p.deviceParams().hasVectorUnit()) {
      return Verdict.refuse("a maximum needs the vector unit (this device has VECTOR_UNIT = 0)");
    }
    if (p.rank(x) != 4 || !(p.isFloat(x) || p.isInteger8(x))) {
      return Verdict.refuse("not a maximum of a 4-D float or 8-bit feature map");
    }
    if (!p.producedAsFeatureMap(x)) {
      return Verdict.refuse("its input does not come from a device layer (alone, it would"
          + " only add a trip to the device)");
    }
    Reductions.Over over = n.opType().equals("GlobalMaxPool") ? Reductions.Over.PIXELS
        : Reductions.of(n, p);
    if (over == Reductions.Over.OTHER || !Reductions.keeps(n)) {
      return Verdict.refuse("a maximum over other axes than the channels or the pixels, or"
          + " without keepdims");
    }
    return Verdict.accept(new Op(this, Op.Kind.MAX_POOL, n, List.of(x)));
  }

  @Override
  public DeviceGraph.Node build(Op op, Segmenter.SegmentBuild s) {
    String x = op.inputs.get(0);
    DeviceGraph.Node in = s.input(op, x);
    s.keepQuant(x, op.output);
    Node n = op.anchor;
    if (!n.opType().equals("GlobalMaxPool")
        && Reductions.of(n, s.partitioner()) == Reductions.Over.CHANNELS) {
      return s.builder().channelReduce(n.name(), in, new ChannelReduceLayer(true, null));
    }
    DeviceGraph.Shape sh = in.shape();
    return s.builder().maxPool(n.name(), in, new MaxPoolLayer(new Window(sh.height(),
        sh.width(), 1, 1, 0, 0, 0, 0, 1, 1), false));
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
