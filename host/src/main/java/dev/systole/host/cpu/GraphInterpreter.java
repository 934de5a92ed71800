package dev.systole.host.cpu;

import dev.systole.host.graph.Graph;
import dev.systole.host.graph.ModelException;
import dev.systole.host.graph.Node;
import dev.systole.host.graph.ValueInfo;
import dev.systole.host.tensor.Tensor;
import java.util.HashMap;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The interpreter: a kernel per node in the graph's order. On a whole run it drops each
 * intermediate tensor after the last node that reads it, so a deep network on a large batch holds
 * only the activations still needed rather than all of them.
 */
final class GraphInterpreter implements Interpreter {
  private final Graph graph;
  private final OpKernel[] nodeKernels;
  /** For each node, the values no later node or graph output reads, dropped after it runs. */
  private final List<List<String>> deadAfter;

  GraphInterpreter(Graph graph, KernelRegistry kernels) {
    this.graph = graph;
    List<Node> nodes = graph.nodes();
    nodeKernels = new OpKernel[nodes.size()];
    for (int i = 0; i < nodeKernels.length; i++) {
      nodeKernels[i] = kernels.kernel(nodes.get(i));
    }
    Map<String, Integer> lastUse = new HashMap<>();
    for (int i = 0; i < nodes.size(); i++) {
      for (String in : nodes.get(i).inputs()) {
        lastUse.put(in, i);
      }
      for (String out : nodes.get(i).outputs()) {
        lastUse.putIfAbsent(out, i);
      }
    }
    Set<String> keep = new HashSet<>();
    graph.outputs().forEach(o -> keep.add(o.name()));
    List<List<String>> dead = new ArrayList<>();
    nodes.forEach(n -> dead.add(new ArrayList<>()));
    lastUse.forEach((value, i) -> {
      if (!keep.contains(value) && !value.isEmpty()) {
        dead.get(i).add(value);
      }
    });
    deadAfter = dead;
  }

  @Override
  public Graph graph() {
    return graph;
  }

  @Override
  public Map<String, Tensor> run(Map<String, Tensor> inputs) {
    Map<String, Tensor> env = new HashMap<>();
    Map<String, Long> symbols = new HashMap<>();
    for (ValueInfo in : graph.inputs()) {
      Tensor t = inputs.get(in.name());
      if (t == null) {
        throw new ModelException("no tensor given for input '" + in.name() + "' (expected "
            + in.typeString() + ")");
      }
      if (t.dtype() != in.dtype()) {
        throw new ModelException(String.format("input '%s' is %s %s, expected %s",
            in.name(), t.dtype().label(), t.shapeString(), in.typeString()));
      }
      Graph.checkDeclared(in, t.shape(), symbols);
      env.put(in.name(), t);
    }
    for (String name : inputs.keySet()) {
      if (!env.containsKey(name)) {
        throw new ModelException("'" + name + "' is not an input of the model (its inputs are "
            + String.join(", ", graph.inputs().stream().map(ValueInfo::name).toList()) + ")");
      }
    }
    List<Node> nodes = graph.nodes();
    for (int i = 0; i < nodes.size(); i++) {
      runNode(i, env);
      deadAfter.get(i).forEach(env::remove);
    }
    Map<String, Tensor> outputs = new LinkedHashMap<>();
    for (ValueInfo o : graph.outputs()) {
      Tensor t = env.get(o.name());
      if (t == null) {
        t = graph.initializers().get(o.name());
      }
      if (graph.initializers().get(o.name()) == t || inputs.get(o.name()) == t) {
        Tensor copy = Tensor.allocate(t.dtype(), t.shape());
        copy.data().put(t.data());
        t = copy;
      }
      outputs.put(o.name(), t);
    }
    return outputs;
  }

  @Override
  public void run(int from, int to, Map<String, Tensor> env) {
    List<Node> nodes = graph.nodes();
    if (from < 0 || to > nodes.size() || from > to) {
      throw new IndexOutOfBoundsException(String.format(
          "nodes %d to %d (expected 0 <= from <= to <= %d)", from, to, nodes.size()));
    }
    for (int i = from; i < to; i++) {
      runNode(i, env);
    }
  }

  private void runNode(int index, Map<String, Tensor> env) {
    Node node = graph.nodes().get(index);
    Tensor[] in = new Tensor[node.inputs().size()];
    for (int i = 0; i < in.length; i++) {
      if (!node.hasInput(i)) {
        continue;
      }
      String name = node.input(i);
      Tensor t = env.get(name);
      if (t == null) {
        t = graph.initializers().get(name);
      }
      if (t == null) {
        throw ModelException.atNode(node, "input '" + name + "' has no value (its producer "
            + graph.producer(name).map(Node::toString).orElse("(none)") + " has not run)");
      }
      in[i] = t;
    }
    Tensor[] out;
    try {
      out = nodeKernels[index].run(node, in);
    } catch (ModelException e) {
      throw e;
    } catch (RuntimeException e) {
      throw ModelException.atNode(node, "failed: " + e);
    }
    for (int i = 0; i < out.length; i++) {
      if (node.hasOutput(i) && out[i] != null) {
        env.put(node.output(i), out[i]);
      }
    }
  }
}
