package dev.systole.host.partition;

import dev.systole.host.compile.DeviceGraph;
import dev.systole.host.compile.MulLayer;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.Node;
import dev.systole.host.quantize.FixedPoint;
import dev.systole.host.quantize.QuantParams;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * A float Mul: of two values of the same shape, or of a feature map and one value per channel
 * ({@code N x C x 1 x 1}, a squeeze-excitation gate), the contract's VMUL; of a value and a
 * scalar constant, the start of a function by table ({@link TableOp}). One operand must come
 * from a device layer, as for an add.
 */
final class MulOp implements DeviceOp {
  @Override
  public List<String> opTypes() {
    return List.of("Mul");
  }

  @Override
  public Verdict lower(Node n, Partitioner p) {
    String a = n.input(0);
    String b = n.input(1);
    if (!p.isFloat(a) || !p.isFloat(b)) {
      return Verdict.refuse("an integer Mul (it wraps; VMUL saturates)");
    }
    if (!p.deviceParams().hasVectorUnit()) {
      return Verdict.refuse("a product needs the vector unit (this device has VECTOR_UNIT = 0)");
    }
    if (p.isConstant(a) || p.isConstant(b)) {
      Tensor k = p.constant(p.isConstant(a) ? a : b);
      return k.numel() == 1 ? TableOp.lowerChain(this, n, p) : ScaleOp.lowerAffine(this, n, p);
    }
    long[] sa = p.shape(a);
    long[] sb = p.shape(b);
    if (sa == null || sb == null) {
      return Verdict.refuse("operands of unknown shapes");
    }
    if (!p.producedOnDevice(a) && !p.producedOnDevice(b)) {
      return Verdict.refuse("neither operand comes from a device layer");
    }
    if (Arrays.equals(sa, sb) && sa.length >= 2) {
      return Verdict.accept(new Op(this, Op.Kind.MAP, n, List.of(a, b)));
    }
    if (perChannel(sa, sb)) {
      return Verdict.accept(new Op(this, Op.Kind.MAP, n, List.of(a, b)));
    }
    if (perChannel(sb, sa)) {
      return Verdict.accept(new Op(this, Op.Kind.MAP, n, List.of(b, a)));
    }
    return Verdict.refuse("broadcasting of " + Arrays.toString(sa) + " and "
        + Arrays.toString(sb) + " (the device multiplies equal shapes, or a feature map by one"
        + " value per channel)");
  }

  /** Whether {@code gate} is one value per channel of the NCHW map {@code map}. */
  private static boolean perChannel(long[] map, long[] gate) {
    return map.length == 4 && gate.length == 4 && gate[0] == map[0] && gate[1] == map[1]
        && gate[2] == 1 && gate[3] == 1 && map[2] * map[3] > 1;
  }

  @Override
  public DeviceGraph.Node build(Op op, Segmenter.SegmentBuild s) {
    if (op.chain != null) {
      return TableOp.buildChain(op, s);
    }
    if (op.inputs.size() == 1) {
      return ScaleOp.buildAffine(op, s);
    }
    DeviceGraph.Node a = s.input(op, op.inputs.get(0));
    DeviceGraph.Node b = s.input(op, op.inputs.get(1));
    QuantParams qa = s.inputQuant(op.inputs.get(0));
    QuantParams qb = s.inputQuant(op.inputs.get(1));
    QuantParams qy = s.partitioner().params(op.output);
    s.record(op.output, qy, new Encoding.Quantized(qy));
    FixedPoint f = FixedPoint.of((double) qa.scale() * qb.scale() / qy.scale());
    return s.builder().mul(op.anchor.name(), a, b, new MulLayer(f.multiplier(), f.shift(),
        qy.zeroPoint(), !a.shape().equals(b.shape())));
  }

  @Override
  public DeviceGraph alone(Node n, Partitioner p) {
    return null;
  }

  @Override
  public boolean quantizes(Node n, Graph g) {
    return g.dtype(n.input(0)) == DType.FLOAT32 && g.dtype(n.input(1)) == DType.FLOAT32;
  }
}
