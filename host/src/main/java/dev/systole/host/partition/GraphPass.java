package dev.systole.host.partition;

import dev.systole.host.graph.Graph;
import java.util.List;

/**
 * A rewrite of a model's graph before it is partitioned: the same model, in a form the
 * partitioner maps better (QLinear ops for QDQ patterns, no Identity or inference Dropout, no
 * nodes that compute from constants only). Each pass is tested on its own; {@link #standard()}
 * is the order they run in.
 */
public interface GraphPass {
  /** {@code g} rewritten; {@code g} itself if the pass changes nothing. */
  Graph apply(Graph g);

  /** The passes every model goes through, in order. */
  static List<GraphPass> standard() {
    return List.of(QdqFusion::rewrite, new ConstantFolding(), new RemoveIdentities());
  }

  /** {@code g} through every pass of {@link #standard()}. */
  static Graph applyAll(Graph g) {
    Graph r = g;
    for (GraphPass p : standard()) {
      r = p.apply(r);
    }
    return r;
  }
}
