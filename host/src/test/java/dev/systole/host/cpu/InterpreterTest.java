package dev.systole.host.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.systole.host.graph.Graph;
import dev.systole.host.graph.ModelException;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class InterpreterTest {
  private static final Graph GRAPH = Graph.builder()
      .input("x", DType.FLOAT32, "N", 2)
      .input("y", DType.FLOAT32, "N", 2)
      .initializer("k", Tensor.ofFloat32(new float[] {10, 20}, 2))
      .node("Add", "sum", List.of("x", "y"), List.of("s"), Map.of())
      .node("Mul", "scale", List.of("s", "k"), List.of("out"), Map.of())
      .output("out").output("k").build();

  private static String error(Map<String, Tensor> inputs) {
    return assertThrows(ModelException.class, () -> Interpreter.create(GRAPH).run(inputs))
        .getMessage();
  }

  @Test
  void runsAndCopiesConstantOutputs() {
    Map<String, Tensor> out = Interpreter.create(GRAPH).run(Map.of(
        "x", Tensor.ofFloat32(new float[] {1, 2, 3, 4}, 2, 2),
        "y", Tensor.ofFloat32(new float[] {1, 1, 1, 1}, 2, 2)));
    assertEquals(List.of("out", "k"), List.copyOf(out.keySet()));
    assertArrayEquals(new float[] {20, 60, 40, 100}, out.get("out").toFloatArray());
    assertEquals(GRAPH.initializers().get("k"), out.get("k"));
    assertNotSame(GRAPH.initializers().get("k"), out.get("k"));
  }

  @Test
  void inputsThatDoNotFitAreNamedWithTheExpectedAndGivenShapes() {
    Tensor two = Tensor.ofFloat32(new float[] {1, 2, 3, 4}, 2, 2);
    assertEquals("no tensor given for input 'y' (expected float32 Nx2)",
        error(Map.of("x", two)));
    assertEquals("input 'y' is int32 2x2, expected float32 Nx2",
        error(Map.of("x", two, "y", Tensor.ofInt32(new int[4], 2, 2))));
    assertEquals("input 'y' has shape 3x2, expected float32 Nx2: dimension 0 (N) is 3 but N is 2"
        + " elsewhere", error(Map.of("x", two, "y", Tensor.allocate(DType.FLOAT32, 3, 2))));
    assertEquals("input 'x' has shape 2x3, expected float32 Nx2: dimension 1 is 3 (expected 2)",
        error(Map.of("x", Tensor.allocate(DType.FLOAT32, 2, 3), "y", two)));
    assertEquals("'z' is not an input of the model (its inputs are x, y)",
        error(Map.of("x", two, "y", two, "z", two)));
  }

  @Test
  void aNodeWhoseInputHasNotBeenComputedIsNamed() {
    Map<String, Tensor> env = new HashMap<>();
    ModelException e = assertThrows(ModelException.class,
        () -> Interpreter.create(GRAPH).run(1, 2, env));
    assertEquals("Mul node 'scale': input 's' has no value (its producer Add node 'sum' has not"
        + " run)", e.getMessage());
    assertEquals("scale", e.node().orElseThrow());
  }

  @Test
  void randomDropoutIsRefusedAndInferenceDropoutIsTheIdentity() {
    Graph g = Graph.builder().opset(13)
        .input("x", DType.FLOAT32, 3)
        .input("train", DType.BOOL)
        .initializer("ratio", Tensor.ofFloat32(new float[] {0.3f}))
        .node("Dropout", "drop", List.of("x", "ratio", "train"), List.of("y", "mask"), Map.of())
        .output("y").output("mask").build();
    Tensor x = Tensor.ofFloat32(new float[] {1, -2, 3}, 3);
    Map<String, Tensor> out = Interpreter.create(g).run(Map.of("x", x,
        "train", Tensor.ofBool(new boolean[] {false})));
    assertEquals(x, out.get("y"));
    assertArrayEquals(new byte[] {1, 1, 1}, out.get("mask").toByteArray());
    ModelException e = assertThrows(ModelException.class, () -> Interpreter.create(g).run(
        Map.of("x", x, "train", Tensor.ofBool(new boolean[] {true}))));
    assertEquals("Dropout node 'drop': training_mode is true with ratio 0.3 (expected inference:"
        + " training_mode false, or a ratio of 0; random dropout is not supported)",
        e.getMessage());
  }
}
