package dev.systole.host.partition;

import dev.systole.host.compile.DeviceGraph;
import dev.systole.host.compile.GemmLayer;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.Node;
import java.util.List;

/**
 * QLinearMatMul and MatMulInteger by a constant 2-D B with constant scales and zero points: run
 * with exactly their integer semantics.
 */
final class IntegerGemmOp implements DeviceOp {
  @Override
  public List<String> opTypes() {
    return List.of("QLinearMatMul", "MatMulInteger");
  }

  @Override
  public boolean integer() {
    return true;
  }

  @Override
  public Verdict lower(Node n, Partitioner p) {
    boolean qlinear = n.opType().equals("QLinearMatMul");
    String a = n.input(0);
    String b = n.input(qlinear ? 3 : 1);
    if (!p.isConstant(b) || p.rank(b) != 2 || !p.constantInputs(n, 1)) {
      return Verdict.refuse("B, scales or zero points are not constants, or B is not 2-D");
    }
    if (p.rank(a) < 2) {
      return Verdict.refuse("A is a vector");
    }
    Op op = new Op(this, Op.Kind.GEMM, n, List.of(a));
    op.inputZeroPoint = p.deviceZeroPoint(n, a);
    p.integerLayer(n);
    return Verdict.accept(op);
  }

  @Override
  public DeviceGraph.Node build(Op op, Segmenter.SegmentBuild s) {
    IntegerLayer layer = s.partitioner().integerLayer(op.anchor);
    s.record(op.output, null, layer.encoding());
    DeviceGraph.Node in = s.input(op, op.inputs.get(0));
    return s.builder().gemm(op.anchor.name(), in, new GemmLayer(layer.inChannels(),
        layer.outChannels(), layer.weights(), layer.bias(), layer.requant()));
  }

  @Override
  public DeviceGraph alone(Node n, Partitioner p) {
    long[] b = p.constantShape(n.input(n.opType().equals("QLinearMatMul") ? 3 : 1));
    return b == null || b.length != 2 ? null : Partitioner.gemmAlone((int) b[0], (int) b[1]);
  }

  @Override
  public boolean quantizes(Node n, Graph g) {
    return false;
  }
}
