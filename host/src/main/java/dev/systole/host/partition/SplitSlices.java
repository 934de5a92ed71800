package dev.systole.host.partition;

import dev.systole.host.graph.Graph;
import dev.systole.host.graph.Node;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;
import java.util.List;
import java.util.Map;

/**
 * Each Split of a value whose shape the plan fixes, rewritten as one Slice per output: the same
 * values, but ops of one output each, which the device takes as runs of channels or features
 * ({@link SliceOp}; a transformer's joint query-key-value projection is split so). The split
 * sizes come from the split input or attribute, or are the equal parts ONNX defines; a Split
 * whose sizes are not known constants is left as it is.
 */
final class SplitSlices {
  private SplitSlices() {}

  static Graph apply(Graph g, Map<String, long[]> shapes) {
    if (g.opset() < 10) {
      return g;
    }
    Graph.Editor edit = g.edit();
    for (Node n : g.nodes()) {
      if (!n.domain().isEmpty() || !n.opType().equals("Split")) {
        continue;
      }
      long[] shape = shapes.get(n.input(0));
      long[] sizes = shape == null ? null : sizes(n, g, shape);
      if (sizes == null) {
        continue;
      }
      int rank = shape.length;
      long axis = Math.floorMod(n.attribute("axis").map(a -> a.asInt()).orElse(0L), rank);
      long start = 0;
      boolean named = false;
      for (int i = 0; i < sizes.length; i++) {
        long end = start + sizes[i];
        if (n.hasOutput(i)) {
          // The first slice keeps the Split's name, so reports find the Split where it runs.
          String base = named ? n.name() + ":slice" + i : n.name();
          named = true;
          String c = n.name() + ":slice" + i;
          edit.initializer(c + ":starts", Tensor.ofInt64(new long[] {start}, 1));
          edit.initializer(c + ":ends", Tensor.ofInt64(new long[] {end}, 1));
          edit.initializer(c + ":axes", Tensor.ofInt64(new long[] {axis}, 1));
          edit.replace(n, "Slice", base, List.of(n.input(0), c + ":starts", c + ":ends",
              c + ":axes"), List.of(n.output(i)), Map.of());
        }
        start = end;
      }
    }
    return edit.isEmpty() ? g : edit.build();
  }

  /** The size of each part, or null if they are not known. */
  private static long[] sizes(Node n, Graph g, long[] shape) {
    int parts = n.outputs().size();
    long axis = Math.floorMod(n.attribute("axis").map(a -> a.asInt()).orElse(0L), shape.length);
    long dim = shape[(int) axis];
    long[] sizes = null;
    if (n.hasInput(1)) {
      Tensor t = g.initializers().get(n.input(1));
      if (t == null || t.dtype() != DType.INT64) {
        return null;
      }
      sizes = t.toLongArray();
    } else if (n.attribute("split").isPresent()) {
      sizes = n.attribute("split").get().asInts();
    } else {
      long each = (dim + parts - 1) / parts;
      sizes = new long[parts];
      for (int i = 0; i < parts; i++) {
        sizes[i] = Math.max(0, Math.min(each, dim - i * each));
      }
    }
    long total = 0;
    for (long s : sizes) {
      if (s < 0) {
        return null;
      }
      total += s;
    }
    return sizes.length == parts && total == dim ? sizes : null;
  }
}
