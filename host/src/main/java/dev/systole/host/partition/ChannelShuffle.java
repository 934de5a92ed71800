package dev.systole.host.partition;

import dev.systole.host.graph.Node;
import java.util.ArrayList;
import java.util.List;

/**
 * A chain of Reshape and Transpose nodes that takes a feature map to one of the same shape with
 * its channels permuted: ShuffleNet's channel shuffle (Reshape to groups, Transpose, Reshape
 * back). Whatever the chain, it is found by following where each element goes, on the indices
 * themselves; a chain that moves anything but whole channels is not one. On the device the
 * permutation is a 1x1 convolution whose weights are 0 and 1, one 1 per output channel: the
 * array gathers the channels exactly, and the requantization maps one scale to the other.
 */
final class ChannelShuffle {
  private ChannelShuffle() {}

  /** A chain and the input channel each output channel copies. */
  record Chain(String input, List<Node> nodes, String output, int[] permutation) {}

  /** The chain that starts at Reshape {@code first}, or null if there is none. */
  static Chain from(Node first, Partitioner p) {
    String x = first.input(0);
    long[] shape = p.shape(x);
    if (shape == null || shape.length != 4 || !p.isFloat(x)) {
      return null;
    }
    long count = shape[0] * shape[1] * shape[2] * shape[3];
    if (count > 1 << 24) {
      return null;
    }
    int[] index = new int[(int) count];
    for (int i = 0; i < index.length; i++) {
      index[i] = i;
    }
    long[] dims = shape;
    List<Node> nodes = new ArrayList<>();
    Node n = first;
    while (true) {
      if (!n.domain().isEmpty()) {
        return null;
      }
      if (n.opType().equals("Reshape")) {
        dims = p.shape(n.output(0));
        if (dims == null || !p.isConstant(n.input(1))) {
          return null;
        }
      } else if (n.opType().equals("Transpose")) {
        long[] perm = n.attribute("perm").map(a -> a.asInts()).orElse(null);
        if (perm == null || perm.length != dims.length) {
          return null;
        }
        index = transpose(index, dims, perm);
        long[] next = new long[dims.length];
        for (int i = 0; i < perm.length; i++) {
          next[i] = dims[(int) perm[i]];
        }
        dims = next;
      } else {
        return null;
      }
      nodes.add(n);
      String out = n.output(0);
      if (java.util.Arrays.equals(dims, shape) && nodes.size() > 1) {
        int[] perm = channels(index, shape);
        return perm == null ? null : new Chain(x, List.copyOf(nodes), out, perm);
      }
      List<Node> users = p.consumers(out);
      if (users.size() != 1 || p.isGraphOutput(out)) {
        return null;
      }
      n = users.get(0);
    }
  }

  /** The elements of a row-major array of {@code dims} in the order of a Transpose by perm. */
  private static int[] transpose(int[] in, long[] dims, long[] perm) {
    int rank = dims.length;
    long[] stride = new long[rank];
    stride[rank - 1] = 1;
    for (int i = rank - 2; i >= 0; i--) {
      stride[i] = stride[i + 1] * dims[i + 1];
    }
    int[] out = new int[in.length];
    int[] at = new int[rank];
    for (int o = 0; o < out.length; o++) {
      long src = 0;
      for (int i = 0; i < rank; i++) {
        src += at[i] * stride[(int) perm[i]];
      }
      out[o] = in[(int) src];
      for (int i = rank - 1; i >= 0; i--) {
        if (++at[i] < dims[(int) perm[i]]) {
          break;
        }
        at[i] = 0;
      }
    }
    return out;
  }

  /**
   * The input channel of each output channel if {@code index} (the NCHW source of each output
   * element) moves whole channels and nothing else, else null.
   */
  private static int[] channels(int[] index, long[] shape) {
    int c = (int) shape[1];
    int hw = (int) (shape[2] * shape[3]);
    int[] perm = new int[c];
    for (int ch = 0; ch < c; ch++) {
      perm[ch] = (index[ch * hw] / hw) % c;
    }
    for (int i = 0; i < index.length; i++) {
      int n = i / (c * hw);
      int ch = (i / hw) % c;
      if (index[i] != (n * c + perm[ch]) * hw + i % hw) {
        return null;
      }
    }
    return perm;
  }

  /** The 1x1 convolution's float weights {@code [C][C]} that copy channel perm[o] to o. */
  static float[] weights(int[] perm) {
    int c = perm.length;
    float[] w = new float[c * c];
    for (int o = 0; o < c; o++) {
      w[o * c + perm[o]] = 1f;
    }
    return w;
  }
}
