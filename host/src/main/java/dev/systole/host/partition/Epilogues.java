package dev.systole.host.partition;

import dev.systole.host.graph.Graph;
import dev.systole.host.graph.Node;
import dev.systole.host.graph.ValueInfo;
import dev.systole.host.quantize.BatchNorm;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The pass that finds what folds into a device layer after it, at no cost on the device: a
 * BatchNormalization (into the weights and bias), a bias Add of one value per output feature
 * after a MatMul (into the bias; exporters write a Linear on 3-D input that way), and a Relu or
 * a Clip whose range holds 0 (into the requantization). A Clip(0, 6) after a layer is a
 * requantization whose output range is [0, 6]: its output's calibrated range lies within it, so
 * saturating to that range is the clip, and it must not split a program.
 *
 * <p>Which layers take which parts their device op says ({@link DeviceOp#epilogue()}); a part
 * folds only when the layer's output has no other reader, so nothing reads a value that no
 * longer exists. The graph is left as it is: a layer that ends up on the CPU runs its epilogue
 * nodes there as written.
 */
final class Epilogues {
  /** The parts of an epilogue, in the order they may follow a layer. */
  enum Part {
    BATCH_NORM, BIAS, ACTIVATION
  }

  /**
   * What follows {@code anchor}: the nodes folded, in order, a BatchNormalization's parameters
   * (or null), a bias per output feature (or null), whether the output is clamped at 0, and
   * the value the folded layer writes.
   */
  record Epilogue(List<Node> nodes, BatchNorm batchNorm, float[] bias, boolean relu,
      String output) {}

  private Epilogues() {}

  /** The epilogue of every layer that has one, by its anchor node. */
  static Map<Node, Epilogue> of(Graph g, DeviceOps ops) {
    Map<String, List<Node>> consumers = new HashMap<>();
    g.nodes().forEach(n -> n.reads().forEach(r ->
        consumers.computeIfAbsent(r, k -> new ArrayList<>()).add(n)));
    Set<String> outputs = new HashSet<>();
    g.outputs().stream().map(ValueInfo::name).forEach(outputs::add);
    Map<Node, Epilogue> found = new LinkedHashMap<>();
    for (Node n : g.nodes()) {
      Optional<DeviceOp> op = ops.of(n);
      if (op.isEmpty() || !op.get().quantizes(n, g)) {
        continue;
      }
      Set<Part> parts = op.get().epilogue(n, g);
      if (parts.isEmpty()) {
        continue;
      }
      Epilogue e = follow(g, n, parts, consumers, outputs);
      if (e != null) {
        found.put(n, e);
      }
    }
    return found;
  }

  private static Epilogue follow(Graph g, Node anchor, Set<Part> parts,
      Map<String, List<Node>> consumers, Set<String> outputs) {
    List<Node> nodes = new ArrayList<>();
    String out = anchor.output(0);
    BatchNorm bn = null;
    float[] bias = null;
    boolean relu = false;
    int features = outFeatures(g, anchor);
    Node next = sole(out, consumers, outputs);
    if (next != null && parts.contains(Part.BATCH_NORM) && isBatchNorm(next, out, g)) {
      bn = new BatchNorm(floats(g, next.input(1)), floats(g, next.input(2)),
          floats(g, next.input(3)), floats(g, next.input(4)), next.floatAttr("epsilon"));
      if (bn.channels() != features) {
        bn = null;
      } else {
        nodes.add(next);
        out = next.output(0);
        next = sole(out, consumers, outputs);
      }
    }
    if (next != null && parts.contains(Part.BIAS) && bn == null) {
      bias = biasOf(g, next, out, features);
      if (bias != null) {
        nodes.add(next);
        out = next.output(0);
        next = sole(out, consumers, outputs);
      }
    }
    if (next != null && parts.contains(Part.ACTIVATION) && next.known()
        && next.input(0).equals(out)) {
      if (next.opType().equals("Relu") || next.opType().equals("Clip") && clipHolds0(g, next)) {
        relu = next.opType().equals("Relu") || clipMin(g, next) == 0f;
        nodes.add(next);
        out = next.output(0);
      }
    }
    return nodes.isEmpty() ? null : new Epilogue(List.copyOf(nodes), bn, bias, relu, out);
  }

  /** The one node reading {@code value}, if it is not also a graph output; else null. */
  private static Node sole(String value, Map<String, List<Node>> consumers,
      Set<String> outputs) {
    List<Node> c = consumers.getOrDefault(value, List.of());
    return c.size() == 1 && !outputs.contains(value) ? c.get(0) : null;
  }

  /** The output features of a Conv, Gemm or MatMul from its constant weights, or -1. */
  private static int outFeatures(Graph g, Node n) {
    Tensor w = g.initializers().get(n.input(1));
    if (w == null || w.rank() < 2) {
      return -1;
    }
    if (n.opType().equals("Conv")) {
      return (int) w.dim(0);
    }
    boolean transB = n.opType().equals("Gemm") && n.intAttr("transB") != 0;
    return (int) w.dim(transB ? 0 : w.rank() - 1);
  }

  private static boolean isBatchNorm(Node n, String in, Graph g) {
    if (!n.known() || !n.opType().equals("BatchNormalization") || !n.input(0).equals(in)
        || n.hasOutput(1)) {
      return false;
    }
    for (int i = 1; i <= 4; i++) {
      Tensor t = g.initializers().get(n.input(i));
      if (t == null || t.dtype() != DType.FLOAT32) {
        return false;
      }
    }
    return true;
  }

  /** The bias per feature that Add {@code n} adds to {@code in}, or null if it is not one. */
  private static float[] biasOf(Graph g, Node n, String in, int features) {
    if (!n.known() || !n.opType().equals("Add") || features <= 0) {
      return null;
    }
    String other = n.input(0).equals(in) ? n.input(1) : n.input(1).equals(in) ? n.input(0)
        : null;
    Tensor c = other == null ? null : g.initializers().get(other);
    if (c == null || c.dtype() != DType.FLOAT32 || c.numel() != features
        || c.rank() > 0 && c.dim(-1) != features) {
      return null;
    }
    float[] b = new float[features];
    c.data().asFloatBuffer().get(b);
    return b;
  }

  /** Whether a Clip's constant range holds 0, so its lower bound is a ReLU or none. */
  private static boolean clipHolds0(Graph g, Node n) {
    Float min = bound(g, n, 1, "min");
    Float max = bound(g, n, 2, "max");
    return min != null && max != null && min <= 0f && max >= 0f;
  }

  private static float clipMin(Graph g, Node n) {
    return bound(g, n, 1, "min");
  }

  /**
   * A Clip bound: input {@code i} (opset 11 and later) or the attribute (before), infinite when
   * absent; null if it is not a constant.
   */
  private static Float bound(Graph g, Node n, int i, String attribute) {
    float none = i == 1 ? Float.NEGATIVE_INFINITY : Float.POSITIVE_INFINITY;
    if (n.hasInput(i)) {
      Tensor t = g.initializers().get(n.input(i));
      return t == null || t.dtype() != DType.FLOAT32 || t.numel() != 1 ? null
          : t.getFloat32(0);
    }
    return n.attribute(attribute).map(a -> a.asFloat()).orElse(none);
  }

  private static float[] floats(Graph g, String value) {
    Tensor t = g.initializers().get(value);
    float[] f = new float[Math.toIntExact(t.numel())];
    t.data().asFloatBuffer().get(f);
    return f;
  }

  /** The parts a layer of a float convolution or matrix product takes. */
  static Set<Part> all() {
    return EnumSet.allOf(Part.class);
  }
}
