package dev.systole.host.partition;

import dev.systole.host.compile.DeviceGraph;
import dev.systole.host.compile.TableLayer;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.Node;
import dev.systole.host.quantize.QuantParams;
import dev.systole.host.tensor.DType;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * An activation, or any chain of elementwise nodes that is a function of one float value
 * ({@link Functions}): one VLUT through a 256-entry table, exact by construction. It anchors at
 * the chain's first node, which is a unary elementwise op, or a Div or Pow of a value by a
 * scalar constant (GELU's chain begins with {@code x / sqrt 2}); Add, Sub and Mul begin chains
 * through their own ops.
 */
final class TableOp implements DeviceOp {
  private static final Set<String> ANCHORS;

  static {
    java.util.Set<String> s = new java.util.HashSet<>(Functions.UNARY);
    s.remove("Identity");
    s.add("Div");
    s.add("Pow");
    ANCHORS = Set.copyOf(s);
  }

  @Override
  public List<String> opTypes() {
    return new ArrayList<>(new java.util.TreeSet<>(ANCHORS));
  }

  @Override
  public Verdict lower(Node n, Partitioner p) {
    return lowerChain(this, n, p);
  }

  /** The table comes from ONNX Runtime running the nodes, so it needs nothing but their type. */
  @Override
  public boolean takesOpaque() {
    return true;
  }

  /** The table layer a chain from {@code n} would be, or why not; for {@code owner}'s ops. */
  static Verdict lowerChain(DeviceOp owner, Node n, Partitioner p) {
    if (!p.deviceParams().hasVectorUnit()) {
      return Verdict.refuse("a function by table needs the vector unit (this device has"
          + " VECTOR_UNIT = 0)");
    }
    Functions.Chain chain = Functions.from(n, p);
    if (chain == null) {
      return Verdict.refuse("not a function of one float value and scalar constants");
    }
    if (!p.producedOnDevice(chain.input())) {
      return Verdict.refuse("its input does not come from a device layer (alone, it would"
          + " only add a trip to the device)");
    }
    Op op = new Op(owner, Op.Kind.ELEMENTWISE, n, List.of(chain.input()));
    op.nodes.addAll(chain.nodes().subList(1, chain.nodes().size()));
    op.output = chain.output();
    QuantParams qx = p.params(chain.input());
    QuantParams qy = p.params(chain.output());
    if (qx != null && qy != null) {
      op.table = Functions.table(chain, p, qx, qy);
      op.tableInput = qx;
    }
    op.chain = chain;
    return Verdict.accept(op);
  }

  @Override
  public DeviceGraph.Node build(Op op, Segmenter.SegmentBuild s) {
    return buildChain(op, s);
  }

  static DeviceGraph.Node buildChain(Op op, Segmenter.SegmentBuild s) {
    String x = op.inputs.get(0);
    DeviceGraph.Node in = s.input(op, x);
    QuantParams qx = s.inputQuant(x);
    QuantParams qy = s.partitioner().params(op.output);
    byte[] table = qx.equals(op.tableInput) ? op.table
        : Functions.table(op.chain, s.partitioner(), qx, qy);
    s.record(op.output, qy, new Encoding.Quantized(qy));
    return s.builder().table(op.anchor.name(), in, new TableLayer(table, qy.zeroPoint()));
  }

  @Override
  public DeviceGraph alone(Node n, Partitioner p) {
    return null;
  }

  @Override
  public boolean quantizes(Node n, Graph g) {
    return n.outputs().size() == 1 && g.dtype(n.output(0)) == DType.FLOAT32;
  }
}
