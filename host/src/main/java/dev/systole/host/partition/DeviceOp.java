package dev.systole.host.partition;

import dev.systole.host.compile.DeviceGraph;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.Node;
import java.util.List;

/**
 * What the device can do for one kind of ONNX node, in one place: whether it runs a given node
 * (and if not, why, in words the compile report prints), and the device layer it becomes. The
 * partitioner asks the {@link DeviceOps} registry and knows no op by name, so adding a device
 * op is adding one of these and its tests.
 *
 * <p>The split follows ONNX Runtime's execution providers, whose per-op builders decide
 * support apart from the partitioning mechanics: the mechanics (segments, layouts, imports and
 * exports, capacity) stay in the {@link Partitioner}, and each op only answers for itself. A
 * refusal is a value, not an exception.
 */
interface DeviceOp {
  /** The op types of the default domain this class lowers. */
  List<String> opTypes();

  /**
   * The layer {@code n} would be, or why the device cannot run it, judged with what {@code p}
   * knows at this point of the model (shapes, constants, what the open program produces).
   */
  Verdict lower(Node n, Partitioner p);

  /** Adds {@code op}'s device node to the program being built, quantizing what needs it. */
  DeviceGraph.Node build(Op op, Segmenter.SegmentBuild s);

  /**
   * The device graph of {@code n}'s layer alone over one sample, for deciding before the
   * partition whether the device's buffers hold it; null if {@code n} has no layer of its own
   * or is no layer this op makes. Only shapes matter: the weights may be zeros.
   */
  DeviceGraph alone(Node n, Partitioner p);

  /**
   * What may fold into a layer of this op after it ({@link Epilogues}); none by default.
   */
  default java.util.Set<Epilogues.Part> epilogue() {
    return java.util.Set.of();
  }

  /** What may fold into the layer node {@code n} of graph {@code g} would be: by default its op's. */
  default java.util.Set<Epilogues.Part> epilogue(Node n, Graph g) {
    return epilogue();
  }

  /**
   * Whether this op lowers nodes the reader keeps opaque (a version or attribute it does not
   * interpret): true only for ops that let ONNX Runtime compute what the node means.
   */
  default boolean takesOpaque() {
    return false;
  }

  /**
   * Whether the layers this op makes read rows-of-features inputs through any view of their
   * buffer ({@link Strided}), not only one in ONNX's order: a function of each element, or a
   * layer that loads with the view's strides. A program closes before any other layer that
   * would read a value out of order, and the value comes back in order from the host.
   */
  default boolean readsViews() {
    return false;
  }

  /** Whether the layers this op makes compute with a model's own integer quantization. */
  default boolean integer() {
    return false;
  }

  /**
   * Whether the device would run {@code n} quantized from calibrated ranges: a float node the
   * model needs a calibration for.
   */
  boolean quantizes(Node n, Graph g);

  /** A node's fate: a layer ({@code op}), or a refusal with its reason (null: no reason). */
  record Verdict(Op op, String refusal) {
    static Verdict accept(Op op) {
      return new Verdict(op, null);
    }

    static Verdict refuse(String why) {
      return new Verdict(null, why);
    }

    boolean accepted() {
      return op != null;
    }
  }
}
