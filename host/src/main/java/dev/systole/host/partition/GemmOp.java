package dev.systole.host.partition;

import dev.systole.host.compile.DeviceGraph;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.Node;
import dev.systole.host.tensor.DType;
import java.util.List;

/**
 * A float Gemm with a constant B and a bias of one value per column (alpha and beta folded in,
 * any transB; transA stays on the CPU), or a MatMul by a constant 2-D matrix, over rows of
 * features: every leading axis of A is rows. A MatMul of two activations is a
 * {@link ProductOp}'s.
 */
final class GemmOp implements DeviceOp {
  @Override
  public List<String> opTypes() {
    return List.of("Gemm", "MatMul");
  }

  @Override
  public Verdict lower(Node n, Partitioner p) {
    if (ProductOp.isProduct(n, p.graph())) {
      return ProductOp.INSTANCE.lower(n, p);
    }
    if (!p.isFloat(n.input(0))) {
      return Verdict.refuse("input is " + p.typeLabel(n.input(0)));
    }
    if (!p.isConstant(n.input(1)) || p.rank(n.input(1)) != 2) {
      return Verdict.refuse("B is not a constant 2-D matrix");
    }
    if (p.rank(n.input(0)) < 2) {
      return Verdict.refuse("A is a vector");
    }
    if (n.opType().equals("Gemm")) {
      if (n.intAttr("transA") != 0) {
        return Verdict.refuse("transA");
      }
      if (n.hasInput(2) && (!p.isConstant(n.input(2)) || FloatLayers.columnBias(n, p) == null)) {
        return Verdict.refuse("C is not a constant with one value per column");
      }
    }
    if (n.opType().equals("MatMul") && p.rank(n.input(0)) == 4
        && p.producedChannelsLast(n.input(0))) {
      Op op = new Op(this, Op.Kind.CONV, n, List.of(n.input(0)));
      op.inputLayout = Boundary.Layout.MAP_LAST;
      op.outputLayout = Boundary.Layout.MAP_LAST;
      return Verdict.accept(op);
    }
    return Verdict.accept(new Op(this, Op.Kind.GEMM, n, List.of(n.input(0))));
  }

  @Override
  public java.util.Set<Epilogues.Part> epilogue() {
    return Epilogues.all();
  }

  /** Nothing folds into a product of two activations, whose requantization is uniform. */
  @Override
  public java.util.Set<Epilogues.Part> epilogue(Node n, Graph g) {
    return ProductOp.isProduct(n, g) ? java.util.Set.of() : epilogue();
  }

  @Override
  public DeviceGraph.Node build(Op op, Segmenter.SegmentBuild s) {
    if (op.inputLayout == Boundary.Layout.MAP_LAST) {
      return s.builder().conv(op.anchor.name(), s.input(op, op.inputs.get(0)),
          FloatLayers.pointwise(op, s));
    }
    DeviceGraph.Node in = s.input(op, op.inputs.get(0));
    return s.builder().gemm(op.anchor.name(), in, FloatLayers.gemm(op, in.shape(), s));
  }

  @Override
  public DeviceGraph alone(Node n, Partitioner p) {
    if (ProductOp.isProduct(n, p.graph())) {
      return null;
    }
    long[] b = p.constantShape(n.input(1));
    if (b == null || b.length != 2) {
      return null;
    }
    boolean transB = n.opType().equals("Gemm") && n.intAttr("transB") != 0;
    return Partitioner.gemmAlone((int) b[transB ? 1 : 0], (int) b[transB ? 0 : 1]);
  }

  @Override
  public boolean quantizes(Node n, Graph g) {
    return g.dtype(n.input(0)) == DType.FLOAT32;
  }
}
