package dev.systole.host.partition;

import dev.systole.host.cpu.GraphProbe;
import dev.systole.host.graph.Node;
import dev.systole.host.quantize.QuantParams;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Chains of elementwise nodes that compute a function of one float value, and their tables.
 *
 * <p>An activation is rarely one node: SiLU is {@code x * Sigmoid(x)}, a decomposed HardSwish
 * {@code x * HardSigmoid(x)}, GELU {@code x * 0.5 * (1 + Erf(x / sqrt 2))}. Whatever the nodes,
 * if their only non-constant input is one value x, the chain's output is a function of x alone,
 * and with x and the output quantized it is a table of 256 entries (CONTRACT.md 11.6). So a
 * chain is grown from its first node over the elementwise nodes that read only x, scalar
 * constants and the chain's own values, as long as no value but the last is read outside it;
 * ONNX Runtime computes the table by running the chain's nodes on the 256 values x can take, so
 * the table means what the model means, for any elementwise op it has.
 */
final class Functions {
  /** Elementwise ops of one tensor input (and scalar constants for the others). */
  static final Set<String> UNARY = Set.of("Abs", "Acos", "Acosh", "Asin", "Asinh", "Atan",
      "Atanh", "Ceil", "Celu", "Clip", "Cos", "Cosh", "Elu", "Erf", "Exp", "Floor", "HardSigmoid",
      "HardSwish", "LeakyRelu", "Log", "Mish", "Neg", "Reciprocal", "Relu", "Round", "Selu",
      "Sigmoid", "Sign", "Sin", "Sinh", "Softplus", "Softsign", "Sqrt", "Tan", "Tanh",
      "ThresholdedRelu", "Identity");

  /** Elementwise ops of two tensors, which a chain takes when both are x or its own values. */
  static final Set<String> BINARY = Set.of("Add", "Sub", "Mul", "Div", "Pow", "Min", "Max",
      "PRelu");

  private Functions() {}

  /** A chain: its input x, its nodes in order, its output. */
  record Chain(String input, List<Node> nodes, String output) {}

  /**
   * The longest chain that starts at {@code first}, or null if {@code first} is not an
   * elementwise node of one float value and scalar constants.
   */
  static Chain from(Node first, Partitioner p) {
    String x = argument(first, p, Set.of());
    if (x == null) {
      return null;
    }
    List<Node> nodes = new ArrayList<>(List.of(first));
    Set<String> values = new HashSet<>(List.of(first.output(0)));
    List<Node> order = p.graph().nodes();
    for (int i = order.indexOf(first) + 1; i < order.size(); i++) {
      Node n = order.get(i);
      if (!elementwise(n) || n.reads().stream().noneMatch(values::contains)) {
        continue;
      }
      String arg = argument(n, p, values);
      if (x.equals(arg) || arg == null && readsOnly(n, p, values, x)) {
        nodes.add(n);
        values.add(n.output(0));
      }
    }
    int end = nodes.size();
    while (end > 1 && !closed(nodes.subList(0, end), p)) {
      end--;
    }
    List<Node> chain = List.copyOf(nodes.subList(0, end));
    return closed(chain, p) ? new Chain(x, chain, chain.get(chain.size() - 1).output(0)) : null;
  }

  private static boolean elementwise(Node n) {
    return n.domain().isEmpty() && n.outputs().size() == 1
        && (UNARY.contains(n.opType()) || BINARY.contains(n.opType()));
  }

  /**
   * The one input of {@code n} that is neither a scalar constant nor in {@code own}, if there is
   * exactly one and it is float; null otherwise.
   */
  private static String argument(Node n, Partitioner p, Set<String> own) {
    if (!elementwise(n) || !p.isFloat(n.output(0))) {
      return null;
    }
    String arg = null;
    for (int i = 0; i < n.inputs().size(); i++) {
      if (!n.hasInput(i) || own.contains(n.input(i)) || scalar(n.input(i), p)) {
        continue;
      }
      if (arg != null && !arg.equals(n.input(i)) || !p.isFloat(n.input(i))) {
        return null;
      }
      arg = n.input(i);
    }
    return arg;
  }

  /** Whether every input of {@code n} is x, one of the chain's values or a scalar constant. */
  private static boolean readsOnly(Node n, Partitioner p, Set<String> own, String x) {
    for (int i = 0; i < n.inputs().size(); i++) {
      String v = n.hasInput(i) ? n.input(i) : null;
      if (v != null && !v.equals(x) && !own.contains(v) && !scalar(v, p)) {
        return false;
      }
    }
    return p.isFloat(n.output(0));
  }

  private static boolean scalar(String value, Partitioner p) {
    return p.isConstant(value) && p.constant(value).numel() == 1;
  }

  /** Whether no value of {@code nodes} but the last one's is read outside them. */
  private static boolean closed(List<Node> nodes, Partitioner p) {
    Set<Node> inside = new HashSet<>(nodes);
    for (Node n : nodes.subList(0, nodes.size() - 1)) {
      String v = n.output(0);
      if (p.isGraphOutput(v) || !inside.containsAll(p.consumers(v))) {
        return false;
      }
    }
    return true;
  }

  /**
   * The table of {@code chain} from input quantization {@code qx} to output {@code qy}: entry
   * e is {@code clamp(zy + rint(f(sx * (e - 128 - zx)) / sy))}.
   *
   * @throws IllegalArgumentException naming the argument if the function is NaN there
   */
  static byte[] table(Chain chain, Partitioner p, QuantParams qx, QuantParams qy) {
    float[] at = new float[256];
    for (int e = 0; e < 256; e++) {
      at[e] = qx.scale() * (e - 128 - qx.zeroPoint());
    }
    float[] f = GraphProbe.tabulate(p.graph(), chain.nodes(), chain.input(), chain.output(), at);
    byte[] t = new byte[256];
    for (int e = 0; e < 256; e++) {
      if (Float.isNaN(f[e])) {
        throw new IllegalArgumentException("its function is NaN at " + at[e] + ", within the"
            + " input's range (expected a value at every int8 input)");
      }
      double q = qy.zeroPoint() + Math.rint(f[e] / (double) qy.scale());
      t[e] = (byte) Math.max(-128, Math.min(127, q));
    }
    return t;
  }

  /**
   * The table that takes a code of {@code from} to the nearest code of {@code to}, or null if
   * the two quantizations are the same (a copy needs no table then).
   */
  static byte[] rescale(QuantParams from, QuantParams to) {
    if (from.scale() == to.scale() && from.zeroPoint() == to.zeroPoint()) {
      return null;
    }
    byte[] t = new byte[256];
    for (int e = 0; e < 256; e++) {
      double x = (double) from.scale() * (e - 128 - from.zeroPoint());
      double q = to.zeroPoint() + Math.rint(x / to.scale());
      t[e] = (byte) Math.max(-128, Math.min(127, q));
    }
    return t;
  }
}
