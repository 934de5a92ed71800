package dev.systole.host.graph;

import dev.systole.host.tensor.Tensor;

/**
 * The output shapes of one node for concrete inputs, by the same rules {@link Graph#inferShapes}
 * uses, for code that runs nodes one at a time (the CPU interpreter's kernels, a compiler placing
 * a node on the device): one set of rules, so a node that passes shape inference runs, and one
 * that does not fails with the same message wherever it is checked.
 */
public final class OpShapes {
  private OpShapes() {}

  /**
   * The shapes of {@code node}'s outputs (null for an output the node does not have).
   *
   * @param inputs the input tensors, null for an absent optional input; their values are used
   *     where a shape depends on them (Reshape's target, the axes of Squeeze and Unsqueeze)
   * @throws ModelException if the inputs do not fit together, naming the node
   */
  public static long[][] outputShapes(Node node, Tensor[] inputs) {
    long[][] in = new long[inputs.length][];
    for (int i = 0; i < inputs.length; i++) {
      in[i] = inputs[i] == null ? null : inputs[i].shape();
    }
    return ShapeInference.shapes(node, in, inputs, true, new Tensor[node.outputs().size()]);
  }

  /** The permutation a Transpose node applies to a rank-{@code rank} input. */
  public static long[] permutation(Node node, int rank) {
    return ShapeInference.permutation(node, rank);
  }

  /**
   * {@code axis} of a rank-{@code rank} input as an index from 0, checked.
   *
   * @throws ModelException if it is outside {@code -rank} to {@code rank - 1}, naming the node
   */
  public static int axis(Node node, long axis, int rank) {
    return ShapeInference.axis(node, axis, rank, false);
  }

  /**
   * The tensor a Constant node makes, from whichever of its value attributes it has; shared with
   * the node, so callers must not write to it.
   */
  public static Tensor constantValue(Node node) {
    return ShapeInference.constantValue(node);
  }
}
