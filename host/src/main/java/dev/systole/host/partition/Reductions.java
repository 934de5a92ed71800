package dev.systole.host.partition;

import dev.systole.host.graph.Node;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;

/** What a ReduceMean or ReduceMax reduces: its axes, from the attribute or the input. */
final class Reductions {
  private Reductions() {}

  /** Where a reduction of a rank-4 NCHW value goes. */
  enum Over {
    CHANNELS, PIXELS, OTHER
  }

  /** Whether {@code n} keeps the axes it reduces (keepdims, 1 by default). */
  static boolean keeps(Node n) {
    return n.attribute("keepdims").map(a -> a.asInt()).orElse(1L) == 1;
  }

  /**
   * Which axes {@code n} reduces over its rank-4 input: the channels (axis 1), the pixels
   * (axes 2 and 3), or anything else.
   */
  static Over of(Node n, Partitioner p) {
    long[] axes = n.attribute("axes").map(a -> a.asInts()).orElse(null);
    if (axes == null && n.inputs().size() > 1 && n.hasInput(1)) {
      Tensor t = p.constant(n.input(1));
      axes = t == null || t.dtype() != DType.INT64 ? null : t.toLongArray();
    }
    if (axes == null) {
      return Over.OTHER;
    }
    if (axes.length == 1 && Math.floorMod(axes[0], 4) == 1) {
      return Over.CHANNELS;
    }
    if (axes.length == 2) {
      long a = Math.floorMod(axes[0], 4);
      long b = Math.floorMod(axes[1], 4);
      if (Math.min(a, b) == 2 && Math.max(a, b) == 3) {
        return Over.PIXELS;
      }
    }
    return Over.OTHER;
  }
}
