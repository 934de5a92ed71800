package dev.systole.host.cpu;

import dev.systole.host.graph.Graph;
import dev.systole.host.graph.ModelException;
import dev.systole.host.tensor.Tensor;
import java.util.Map;

/**
 * Runs a {@link Graph} on the host CPU, node by node, with a kernel per op from a
 * {@link KernelRegistry}. It is the reference the device path is checked against, and the part
 * of a compiled model that stays on the CPU: so besides running a whole graph it runs any range
 * of nodes over an environment of named tensors, and a caller can interleave its own work (a
 * device program standing for some nodes) between ranges.
 */
public interface Interpreter {
  /** An interpreter of {@code graph} with the standard CPU kernels. */
  static Interpreter create(Graph graph) {
    return create(graph, KernelRegistry.standard());
  }

  static Interpreter create(Graph graph, KernelRegistry kernels) {
    return new GraphInterpreter(graph, kernels);
  }

  Graph graph();

  /**
   * Runs the whole graph.
   *
   * @param inputs a tensor for each graph input, by name
   * @return the graph's outputs, by name, in the graph's order
   * @throws ModelException if an input is missing, unknown, or of the wrong type or shape (naming
   *     it, the expected and the given type and shape), or a node fails (naming the node)
   */
  Map<String, Tensor> run(Map<String, Tensor> inputs);

  /**
   * Runs nodes {@code from} (inclusive) to {@code to} (exclusive) of {@link Graph#nodes()},
   * reading their inputs from {@code env} (or the graph's initializers) and putting their outputs
   * into it. Nothing is removed from {@code env}.
   *
   * @throws ModelException if a node's input has no value yet, or a node fails, naming the node
   */
  void run(int from, int to, Map<String, Tensor> env);
}
