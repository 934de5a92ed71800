package dev.systole.host.graph;

import dev.systole.host.tensor.Tensor;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/** Checks the tensors a caller gives for a model's inputs, before anything runs. */
public final class Inputs {
  private Inputs() {}

  /**
   * The shape of each input, after checking that every input is given, none is unknown, and each
   * has the declared element type and a shape that fits the declared one (symbolic dimensions
   * bound consistently), and that the values these shapes give the model (as far as Systole's
   * shape inference reaches) each fit in a tensor, before anything runs on them.
   *
   * @throws ModelException naming the input, the expected and the given type and shape, or the
   *     node whose output would be too large
   */
  public static Map<String, long[]> check(Graph graph, Map<String, Tensor> inputs) {
    Map<String, long[]> shapes = declared(graph, inputs);
    graph.inferShapesPartially(shapes, inputs);
    return shapes;
  }

  /**
   * The first part of {@link #check}, without shape inference: every input given, none unknown,
   * each of the declared element type and a shape that fits the declared one. Enough for inputs
   * of shapes that passed {@link #check} before (a model's cached plan).
   *
   * @throws ModelException naming the input, the expected and the given type and shape
   */
  public static Map<String, long[]> declared(Graph graph, Map<String, Tensor> inputs) {
    for (String name : inputs.keySet()) {
      if (graph.inputs().stream().noneMatch(in -> in.name().equals(name))) {
        throw new ModelException("'" + name + "' is not an input of the model (its inputs: "
            + describe(graph) + ")");
      }
    }
    Map<String, long[]> shapes = new LinkedHashMap<>();
    Map<String, Long> symbols = new HashMap<>();
    for (ValueInfo in : graph.inputs()) {
      Tensor t = inputs.get(in.name());
      if (t == null) {
        throw new ModelException("no tensor given for input '" + in.name() + "' (expected "
            + in.typeString() + ")");
      }
      if (t.dtype() != in.dtype()) {
        throw new ModelException(String.format("input '%s' is %s %s, expected %s", in.name(),
            t.dtype().label(), t.shapeString(), in.typeString()));
      }
      Graph.checkDeclared(in, t.shape(), symbols);
      shapes.put(in.name(), t.shape());
    }
    return shapes;
  }

  /** {@code image (float32 Nx1x28x28), mask (bool N)}. */
  public static String describe(Graph graph) {
    StringBuilder sb = new StringBuilder();
    for (ValueInfo in : graph.inputs()) {
      sb.append(sb.length() == 0 ? "" : ", ").append(in.name()).append(" (")
          .append(in.typeString()).append(')');
    }
    return sb.toString();
  }
}
