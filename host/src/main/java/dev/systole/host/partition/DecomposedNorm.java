package dev.systole.host.partition;

import dev.systole.host.graph.Node;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * The layer normalization exporters write as nodes when their opset has no LayerNormalization
 * (CONTRACT.md 7.8): {@code m = ReduceMean(x)}, {@code d = x - m}, {@code v = ReduceMean(d^2)}
 * ({@code Pow(d, 2)} or {@code d * d}), {@code y = d / Sqrt(v + eps)}, then optionally
 * {@code * gamma} and {@code + beta}, every mean over the last axis with its dimension kept. It
 * is one VNORM: the same computation, found from its first ReduceMean, with each value between
 * read only inside it.
 */
final class DecomposedNorm {
  private DecomposedNorm() {}

  /** The nodes of the pattern (the first ReduceMean first), its input, output and constants. */
  record Match(List<Node> nodes, String input, String output, double[] gamma, double[] beta,
      double eps) {}

  /** The pattern that begins at ReduceMean {@code n}, or null. */
  static Match from(Node n, Partitioner p) {
    String x = n.input(0);
    long[] shape = p.shape(x);
    if (shape == null || shape.length < 2 || !meanOfLast(n, p, shape.length)) {
      return null;
    }
    int c = Math.toIntExact(shape[shape.length - 1]);
    List<Node> nodes = new ArrayList<>(List.of(n));
    Node sub = only(p, n.output(0));
    if (sub == null || !sub.opType().equals("Sub") || !sub.input(0).equals(x)
        || !sub.input(1).equals(n.output(0))) {
      return null;
    }
    nodes.add(sub);
    String d = sub.output(0);
    List<Node> users = p.consumers(d).stream().distinct().toList();
    if (users.size() != 2 || p.isGraphOutput(d)) {
      return null;
    }
    Node square = null;
    Node div = null;
    for (Node u : users) {
      if (u.opType().equals("Div") && u.input(0).equals(d)) {
        div = u;
      } else if (u.opType().equals("Pow") && u.input(0).equals(d)
          && Double.valueOf(2).equals(scalar(p, u.input(1)))
          || u.opType().equals("Mul") && u.input(0).equals(d) && u.input(1).equals(d)) {
        square = u;
      }
    }
    if (square == null || div == null) {
      return null;
    }
    nodes.add(square);
    Node variance = only(p, square.output(0));
    if (variance == null || !variance.opType().equals("ReduceMean")
        || !meanOfLast(variance, p, shape.length)) {
      return null;
    }
    nodes.add(variance);
    Node addEps = only(p, variance.output(0));
    Double eps = addEps == null || !addEps.opType().equals("Add") ? null
        : scalar(p, other(addEps, variance.output(0)));
    if (eps == null || !(eps >= 0)) {
      return null;
    }
    nodes.add(addEps);
    Node sqrt = only(p, addEps.output(0));
    if (sqrt == null || !sqrt.opType().equals("Sqrt") || !div.input(1).equals(sqrt.output(0))
        || p.consumers(sqrt.output(0)).size() != 1) {
      return null;
    }
    nodes.add(sqrt);
    nodes.add(div);
    String out = div.output(0);
    double[] gamma = null;
    double[] beta = null;
    Node next = only(p, out);
    if (next != null && next.opType().equals("Mul")) {
      gamma = vector(p, other(next, out), c);
      if (gamma != null) {
        nodes.add(next);
        out = next.output(0);
        next = only(p, out);
      }
    }
    if (next != null && next.opType().equals("Add")) {
      beta = vector(p, other(next, out), c);
      if (beta != null) {
        nodes.add(next);
        out = next.output(0);
      }
    }
    for (Node node : nodes) {
      if (!node.domain().isEmpty()) {
        return null;
      }
      if (node != nodes.get(nodes.size() - 1) && p.isGraphOutput(node.output(0))) {
        return null;
      }
    }
    if (gamma == null) {
      gamma = new double[c];
      java.util.Arrays.fill(gamma, 1);
    }
    return new Match(nodes, x, out, gamma, beta == null ? new double[c] : beta, eps);
  }

  /** The one node that reads {@code value} (not a graph output), or null. */
  private static Node only(Partitioner p, String value) {
    List<Node> users = p.consumers(value);
    return users.size() == 1 && !p.isGraphOutput(value) ? users.get(0) : null;
  }

  /** The input of binary {@code n} that is not {@code value}, or null. */
  private static String other(Node n, String value) {
    if (n.inputs().size() != 2) {
      return null;
    }
    return n.input(0).equals(value) ? n.input(1) : n.input(1).equals(value) ? n.input(0) : null;
  }

  /** Whether ReduceMean {@code n} is over the last axis of a rank-{@code rank} input, kept. */
  private static boolean meanOfLast(Node n, Partitioner p, int rank) {
    if (!n.opType().equals("ReduceMean") || !n.domain().isEmpty()
        || n.attribute("keepdims").map(a -> a.asInt()).orElse(1L) != 1) {
      return false;
    }
    long[] axes = n.attribute("axes").map(a -> a.asInts()).orElse(null);
    if (axes == null && n.inputs().size() > 1 && n.hasInput(1)) {
      Tensor t = p.constant(n.input(1));
      axes = t == null || t.dtype() != DType.INT64 ? null : t.toLongArray();
    }
    return axes != null && axes.length == 1 && Math.floorMod(axes[0], rank) == rank - 1;
  }

  /** The value of a constant of one float, or null. */
  private static Double scalar(Partitioner p, String value) {
    Tensor t = value == null ? null : p.constant(value);
    return t == null || t.numel() != 1 || t.dtype() != DType.FLOAT32 ? null
        : (double) t.getFloat32(0);
  }

  /** A constant of {@code c} floats (or one, broadcast), or null. */
  private static double[] vector(Partitioner p, String value, int c) {
    Tensor t = value == null ? null : p.constant(value);
    if (t == null || t.dtype() != DType.FLOAT32 || t.numel() != c && t.numel() != 1) {
      return null;
    }
    double[] v = new double[c];
    for (int i = 0; i < c; i++) {
      v[i] = t.getFloat32(t.numel() == 1 ? 0 : i);
    }
    return v;
  }
}
