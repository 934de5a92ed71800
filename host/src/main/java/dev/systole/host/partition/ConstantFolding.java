package dev.systole.host.partition;

import dev.systole.host.cpu.GraphProbe;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.Node;
import dev.systole.host.tensor.Tensor;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Replaces the nodes that compute only from constants (a Transpose of a weight, a Constant, the
 * shape arithmetic of a fixed-size model) by initializers holding what they compute, which ONNX
 * Runtime works out once ({@link GraphProbe#constants}). The partitioner then sees constant
 * weights where the model computed them, and no CPU segment recomputes them on every run.
 */
final class ConstantFolding implements GraphPass {
  @Override
  public Graph apply(Graph g) {
    Map<String, Tensor> values = GraphProbe.constants(g);
    if (values.isEmpty()) {
      return g;
    }
    Set<String> read = new HashSet<>();
    g.nodes().forEach(n -> read.addAll(n.reads()));
    g.outputs().forEach(o -> read.add(o.name()));
    Map<String, Tensor> folded = new LinkedHashMap<>(values);
    Graph.Editor edit = g.edit().pruneDead();
    for (Node n : g.nodes()) {
      boolean folds = n.outputs().stream().filter(o -> !o.isEmpty())
          .allMatch(o -> values.containsKey(o) || !read.contains(o));
      if (folds && n.outputs().stream().anyMatch(values::containsKey)) {
        edit.remove(n);
      } else {
        n.outputs().forEach(folded::remove);
      }
    }
    if (folded.isEmpty()) {
      return g;
    }
    folded.forEach(edit::initializer);
    return edit.build();
  }
}
