package dev.systole.host.cpu;

import dev.systole.host.graph.Node;
import dev.systole.host.tensor.Tensor;

/**
 * Runs one kind of node on concrete tensors. A kernel is a pure function of the node (its
 * attributes, already checked and completed by the graph) and its inputs: it never writes to an
 * input, and may return an input itself as an output (Identity, Reshape share bytes), so callers
 * must treat every tensor in an environment as read-only.
 */
@FunctionalInterface
public interface OpKernel {
  /**
   * @param inputs one tensor per input of the node, null where an optional input is absent
   * @return one tensor per output of the node, null where the node does not want that output
   * @throws dev.systole.host.graph.ModelException if the inputs do not fit the node, naming it
   */
  Tensor[] run(Node node, Tensor[] inputs);
}
