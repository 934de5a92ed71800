package dev.systole.host.partition;

import dev.systole.host.graph.Graph;
import dev.systole.host.graph.Node;
import dev.systole.host.graph.ValueInfo;
import dev.systole.host.tensor.Tensor;
import java.util.HashSet;
import java.util.Set;

/**
 * Removes the nodes that pass their input through: Identity, Dropout at inference (without
 * its mask output, and with training_mode absent or a constant false), and a Pad of nothing
 * (which exporters write before an average pooling). Their readers read the
 * input instead. On the device such a node would be a CPU node between two layers, splitting a
 * program for nothing; exporters write many (PyTorch's for shared parameters, every Dropout of
 * a transformer). A node whose output the model returns, or that a subgraph reads, is kept.
 */
final class RemoveIdentities implements GraphPass {
  @Override
  public Graph apply(Graph g) {
    Set<String> kept = new HashSet<>();
    g.outputs().stream().map(ValueInfo::name).forEach(kept::add);
    g.nodes().forEach(n -> kept.addAll(n.implicitInputs()));
    Graph.Editor edit = g.edit();
    for (Node n : g.nodes()) {
      if (passesThrough(n, g) && !kept.contains(n.output(0))) {
        edit.rename(n.output(0), n.input(0)).remove(n);
      }
    }
    return edit.build();
  }

  private static boolean passesThrough(Node n, Graph g) {
    if (!n.hasInput(0) || !n.domain().isEmpty()) {
      return false;
    }
    if (n.opType().equals("Pad")) {
      return padsNothing(n, g);
    }
    if (!n.known()) {
      return false;
    }
    if (n.opType().equals("Identity")) {
      return true;
    }
    if (!n.opType().equals("Dropout") || n.hasOutput(1)) {
      return false;
    }
    if (n.attribute("is_test").map(a -> a.asInt() == 0).orElse(false)) {
      return false;
    }
    if (!n.hasInput(2)) {
      return true;
    }
    Tensor training = g.initializers().get(n.input(2));
    return training != null && training.numel() == 1 && !training.getBool(0);
  }

  /** Whether a Pad's pads (an initializer, or the attribute before opset 11) are all 0. */
  private static boolean padsNothing(Node n, Graph g) {
    long[] attr = n.attribute("pads").map(a -> a.asInts()).orElse(null);
    if (attr != null) {
      return java.util.Arrays.stream(attr).allMatch(v -> v == 0);
    }
    Tensor pads = n.hasInput(1) ? g.initializers().get(n.input(1)) : null;
    if (pads == null || pads.dtype() != dev.systole.host.tensor.DType.INT64) {
      return false;
    }
    for (long i = 0; i < pads.numel(); i++) {
      if (pads.getInt64(i) != 0) {
        return false;
      }
    }
    return true;
  }
}
