package dev.systole.host.partition;

import dev.systole.host.cpu.GraphProbe;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.Node;
import dev.systole.host.tensor.Tensor;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;

/**
 * The shape arithmetic of one plan, folded: every Shape and Size of a value whose shape the plan
 * fixes becomes a constant, and what computes only from constants after that (the Gather,
 * Unsqueeze, Concat and Div that exporters write around a Reshape, a channel shuffle, an
 * attention head split) is folded by {@link ConstantFolding}. A model exported with symbolic
 * sizes thus has, for each input shape it runs at, the constant Reshape targets the device ops
 * need, and its CPU does none of that arithmetic on each run. Shapes a float run measured (they
 * may change with the inputs' values) are left alone.
 */
final class ShapeFolding {
  private ShapeFolding() {}

  /** A folded graph and the values whose shapes still only a float run measured. */
  record Folded(Graph graph, Set<String> measured) {}

  /**
   * {@code g} with its shape arithmetic folded for {@code shapes}. Folding one Reshape's target
   * lets ONNX Runtime's static shape inference fix the values after it, whose Shapes fold in
   * turn, so it goes on until nothing more folds.
   */
  static Folded fold(Graph g, Map<String, long[]> shapes, Set<String> measured) {
    Map<String, long[]> inputShapes = new java.util.HashMap<>();
    g.inputs().forEach(i -> inputShapes.put(i.name(), shapes.get(i.name())));
    Set<String> unsure = new java.util.HashSet<>(measured);
    if (!unsure.isEmpty()) {
      unsure.removeAll(GraphProbe.staticShapes(g, inputShapes, unsure).keySet());
    }
    Graph out = g;
    while (true) {
      Graph next = foldOnce(out, shapes, unsure);
      if (next == out) {
        Graph done = out;
        unsure.removeIf(v -> !done.hasValue(v));
        return new Folded(done, Set.copyOf(unsure));
      }
      out = next;
      unsure.removeAll(GraphProbe.staticShapes(out, inputShapes, unsure).keySet());
    }
  }

  private static Graph foldOnce(Graph g, Map<String, long[]> shapes, Set<String> measured) {
    Graph.Editor edit = g.edit();
    boolean any = false;
    for (Node n : g.nodes()) {
      if (!n.domain().isEmpty() || n.outputs().size() != 1 || n.inputs().isEmpty()) {
        continue;
      }
      boolean shape = n.opType().equals("Shape");
      if (!shape && !n.opType().equals("Size")) {
        continue;
      }
      long[] s = shapes.get(n.input(0));
      if (s == null || measured.contains(n.input(0))) {
        continue;
      }
      edit.remove(n);
      edit.initializer(n.output(0), shape ? shapeOf(n, s) : Tensor.ofInt64(
          new long[] {Arrays.stream(s).reduce(1, (a, b) -> a * b)}));
      any = true;
    }
    return any ? new RemoveIdentities().apply(new ConstantFolding().apply(edit.build())) : g;
  }

  /** Shape's output for an input of shape {@code s}, with its start and end attributes. */
  private static Tensor shapeOf(Node n, long[] s) {
    int rank = s.length;
    long start = n.attribute("start").map(a -> a.asInt()).orElse(0L);
    long end = n.attribute("end").map(a -> a.asInt()).orElse((long) rank);
    int from = (int) Math.max(0, Math.min(rank, start < 0 ? start + rank : start));
    int to = (int) Math.max(0, Math.min(rank, end < 0 ? end + rank : end));
    long[] v = Arrays.copyOfRange(s, from, Math.max(from, to));
    return Tensor.ofInt64(v, v.length);
  }
}
