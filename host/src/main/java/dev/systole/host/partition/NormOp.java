package dev.systole.host.partition;

import dev.systole.host.compile.DeviceGraph;
import dev.systole.host.compile.NormLayer;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.Node;
import dev.systole.host.quantize.QuantParams;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;
import java.util.List;

/**
 * A float LayerNormalization over the last axis of rows (a transformer's, over its model
 * dimension), or the same written as nodes ({@link DecomposedNorm}, lowered from its first
 * ReduceMean by {@link MeanOp}): the contract's integer VNORM, one group per row, with the scale
 * and bias per feature. The features must be a whole number of channel blocks, as a group is
 * whole rows.
 */
final class NormOp implements DeviceOp {
  @Override
  public List<String> opTypes() {
    return List.of("LayerNormalization");
  }

  /** It reads its axis and epsilon attributes and constant inputs; shapes come from ONNX. */
  @Override
  public boolean takesOpaque() {
    return true;
  }

  @Override
  public Verdict lower(Node n, Partitioner p) {
    String x = n.input(0);
    int rank = p.rank(x);
    if (n.outputs().size() > 1 && n.hasOutput(1)) {
      return Verdict.refuse("a normalization with its mean or variance as outputs");
    }
    long axis = n.attribute("axis").map(a -> a.asInt()).orElse(-1L);
    if (rank >= 1 && Math.floorMod(axis, rank) != rank - 1) {
      return Verdict.refuse("a normalization over axis " + axis + " (the device normalizes"
          + " the last)");
    }
    String why = refusal(x, p);
    if (why != null) {
      return Verdict.refuse(why);
    }
    long c = p.shape(x)[rank - 1];
    if (vector(p.constant(n.input(1)), c) == null || n.hasInput(2)
        && vector(p.constant(n.input(2)), c) == null) {
      return Verdict.refuse("a scale or bias that is not a constant of " + c + " floats");
    }
    return Verdict.accept(new Op(this, Op.Kind.ELEMENTWISE, n, List.of(x)));
  }

  /**
   * The layer normalization that exporters write as nodes ({@link DecomposedNorm}) beginning at
   * ReduceMean {@code n}, as one VNORM, or null if {@code n} begins none.
   */
  static Verdict lowerDecomposed(NormOp self, Node n, Partitioner p) {
    DecomposedNorm.Match m = DecomposedNorm.from(n, p);
    if (m == null) {
      return null;
    }
    String why = refusal(m.input(), p);
    if (why != null) {
      return Verdict.refuse(why);
    }
    Op op = new Op(self, Op.Kind.ELEMENTWISE, n, List.of(m.input()));
    op.nodes.addAll(m.nodes().subList(1, m.nodes().size()));
    op.output = m.output();
    op.affine = new Affine(m.gamma(), m.beta(), m.eps());
    return Verdict.accept(op);
  }

  /** A normalization's scale and bias per feature and its epsilon. */
  record Affine(double[] gamma, double[] beta, double eps) {}

  /** Why the device cannot normalize the last axis of {@code x}, or null if it can. */
  private static String refusal(String x, Partitioner p) {
    if (!p.deviceParams().hasVectorUnit()) {
      return "a layer normalization needs the vector unit (this device has VECTOR_UNIT = 0)";
    }
    int rank = p.rank(x);
    boolean last = rank == 4 && p.producedChannelsLast(x);
    if (!p.isFloat(x) || rank < 2 || rank > 3 && !last) {
      return "not a normalization of float rows or of a channels-last feature map";
    }
    if (!p.producedOnDevice(x)) {
      return "its input does not come from a device layer (alone, it would only add a trip to"
          + " the device)";
    }
    long c = p.shape(x)[rank - 1];
    int d = p.deviceParams().lanes();
    if (c % d != 0) {
      return c + " features, not a whole number of " + d + "-lane blocks";
    }
    return null;
  }

  private static double[] vector(Tensor t, long c) {
    if (t == null || t.dtype() != DType.FLOAT32 || t.numel() != c) {
      return null;
    }
    double[] v = new double[(int) c];
    for (int i = 0; i < c; i++) {
      v[i] = t.getFloat32(i);
    }
    return v;
  }

  @Override
  public DeviceGraph.Node build(Op op, Segmenter.SegmentBuild s) {
    Partitioner p = s.partitioner();
    Node n = op.anchor;
    String x = op.inputs.get(0);
    long c = p.shape(x)[p.rank(x) - 1];
    double[] gamma;
    double[] beta;
    double eps;
    if (op.affine != null) {
      gamma = op.affine.gamma();
      beta = op.affine.beta();
      eps = op.affine.eps();
    } else {
      gamma = vector(p.constant(n.input(1)), c);
      beta = n.hasInput(2) ? vector(p.constant(n.input(2)), c) : new double[(int) c];
      eps = n.attribute("epsilon").map(a -> (double) a.asFloat()).orElse(1e-5);
    }
    QuantParams qx = s.inputQuant(x);
    QuantParams qy = p.params(op.output);
    s.record(op.output, qy, new Encoding.Quantized(qy));
    return s.builder().norm(n.name(), s.input(op, x), NormLayer.of(gamma, beta, eps, qx.scale(),
        qy.scale(), qy.zeroPoint()));
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
