package dev.systole.host.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GraphTest {
  /**
   * Conv, pool, then flatten the way PyTorch exports {@code x.view(x.size(0), -1)}: the target
   * shape is computed from the input's shape at run time.
   */
  static Graph exportedCnn() {
    return Graph.builder().opset(13)
        .input("x", DType.FLOAT32, "N", 1, 28, 28)
        .initializer("w", Tensor.allocate(DType.FLOAT32, 8, 1, 5, 5))
        .initializer("zero", Tensor.ofInt64(new long[] {0}))
        .initializer("axes", Tensor.ofInt64(new long[] {0}, 1))
        .initializer("minus1", Tensor.ofInt64(new long[] {-1}, 1))
        .initializer("fc", Tensor.allocate(DType.FLOAT32, 8 * 12 * 12, 10))
        .node("Conv", "conv", List.of("x", "w"), List.of("c"), Map.of())
        .node("MaxPool", "pool", List.of("c"), List.of("p"),
            Map.of("kernel_shape", Attribute.ofInts(2, 2), "strides", Attribute.ofInts(2, 2)))
        .node("Shape", List.of("p"), List.of("s"))
        .node("Gather", List.of("s", "zero"), List.of("n"))
        .node("Unsqueeze", List.of("n", "axes"), List.of("n1"))
        .node("Concat", "cat", List.of("n1", "minus1"), List.of("target"),
            Map.of("axis", Attribute.of(0L)))
        .node("Reshape", List.of("p", "target"), List.of("flat"))
        .node("MatMul", List.of("flat", "fc"), List.of("logits"))
        .output("logits").build();
  }

  @Test
  void shapesAreInferredForConcreteInputsThroughShapeComputations() {
    Graph g = exportedCnn();
    Map<String, long[]> s = g.inferShapes(Map.of("x", new long[] {5, 1, 28, 28}));
    assertArrayEquals(new long[] {5, 8, 24, 24}, s.get("c"));
    assertArrayEquals(new long[] {5, 8, 12, 12}, s.get("p"));
    assertArrayEquals(new long[] {2}, s.get("target"));
    assertArrayEquals(new long[] {5, 1152}, s.get("flat"));
    assertArrayEquals(new long[] {5, 10}, s.get("logits"));
    assertArrayEquals(new long[] {8, 1, 5, 5}, s.get("w"));
    assertEquals(DType.INT64, g.dtype("target"));
    assertEquals(DType.FLOAT32, g.outputs().get(0).dtype());
  }

  @Test
  void inputShapesAreCheckedAgainstTheDeclaredOnes() {
    Graph g = exportedCnn();
    ModelException e = assertThrows(ModelException.class,
        () -> g.inferShapes(Map.of("x", new long[] {5, 3, 28, 28})));
    assertEquals("input 'x' has shape 5x3x28x28, expected float32 Nx1x28x28: dimension 1 is 3"
        + " (expected 1)", e.getMessage());
    e = assertThrows(ModelException.class, () -> g.inferShapes(Map.of()));
    assertEquals("no shape given for input 'x' (expected float32 Nx1x28x28)", e.getMessage());
  }

  @Test
  void symbolicDimensionsBindToOneSize() {
    ValueInfo a = ValueInfo.of("a", DType.FLOAT32, "N", 4);
    ValueInfo b = ValueInfo.of("b", DType.FLOAT32, "N");
    Map<String, Long> symbols = new java.util.HashMap<>();
    Graph.checkDeclared(a, new long[] {3, 4}, symbols);
    ModelException e = assertThrows(ModelException.class,
        () -> Graph.checkDeclared(b, new long[] {2}, symbols));
    assertEquals("input 'b' has shape 2, expected float32 N: dimension 0 (N) is 2 but N is 3"
        + " elsewhere", e.getMessage());
  }

  @Test
  void inconsistentShapesNameTheNode() {
    Graph g = Graph.builder()
        .input("a", DType.FLOAT32, "N", 3)
        .input("b", DType.FLOAT32, 4, 2)
        .node("MatMul", "mm", List.of("a", "b"), List.of("y"), Map.of())
        .output("y").build();
    ModelException e = assertThrows(ModelException.class,
        () -> g.inferShapes(Map.of("a", new long[] {2, 3}, "b", new long[] {4, 2})));
    assertEquals("MatMul node 'mm': A is 2x3 and B is 4x2 (expected A's last dimension to equal"
        + " B's second to last)", e.getMessage());
    assertEquals("mm", e.node().orElseThrow());

    ModelException fixed = assertThrows(ModelException.class, () -> Graph.builder()
        .input("a", DType.FLOAT32, 2, 3).input("b", DType.FLOAT32, 5)
        .node("Add", "add", List.of("a", "b"), List.of("y"), Map.of())
        .output("y").build());
    assertEquals("Add node 'add': shapes 2x3 and 5 do not broadcast (axis 1: 3 vs 5; expected"
        + " equal sizes or 1)", fixed.getMessage());
  }

  @Test
  void typesAreCheckedWhenTheGraphIsBuilt() {
    Graph g = Graph.builder()
        .input("x", DType.INT8, 1, 1, 4, 4)
        .initializer("w", Tensor.allocate(DType.FLOAT32, 1, 1, 3, 3))
        .node("Conv", "conv", List.of("x", "w"), List.of("y"), Map.of())
        .output("y").build();
    Node conv = g.nodes().get(0);
    assertFalse(conv.known(), "a node whose types Systole does not compute it with is opaque");
    assertTrue(conv.problem().endsWith("Conv node 'conv': input 0 'x' is int8 (expected"
        + " float32)"), conv.problem());
    assertNull(g.type("y"), "its output's type is left to the CPU engine");
  }

  @Test
  void cyclesAndValuesDefinedTwiceAreRefused() {
    ModelException cycle = assertThrows(ModelException.class, () -> Graph.builder()
        .input("x", DType.FLOAT32, 2)
        .node("Add", "a", List.of("x", "d"), List.of("c"), Map.of())
        .node("Relu", "b", List.of("c"), List.of("d"), Map.of())
        .output("d").build());
    assertEquals("Add node 'a', Relu node 'b' depend on each other in a cycle (expected an"
        + " acyclic graph)", cycle.getMessage());
    ModelException twice = assertThrows(ModelException.class, () -> Graph.builder()
        .input("x", DType.FLOAT32, 2)
        .node("Relu", "a", List.of("x"), List.of("y"), Map.of())
        .node("Relu", "b", List.of("x"), List.of("y"), Map.of())
        .output("y").build());
    assertEquals("Relu node 'b': output 'y' is also produced by Relu node 'a' (expected each"
        + " value defined once)", twice.getMessage());
  }

  @Test
  void opsetDecidesTheDefinitionAndItsDefaults() {
    Graph old = Graph.builder().opset(11)
        .input("x", DType.FLOAT32, 1, 3)
        .node("Softmax", List.of("x"), List.of("y"))
        .node("Squeeze", "sq", List.of("y"), List.of("z"), Map.of("axes", Attribute.ofInts(0)))
        .output("z").build();
    assertEquals(11, old.nodes().get(0).version());
    assertEquals(1L, old.nodes().get(0).intAttr("axis"));
    Graph current = Graph.builder().opset(13)
        .input("x", DType.FLOAT32, 2, 3)
        .node("Softmax", List.of("x"), List.of("y"))
        .output("y").build();
    assertEquals(-1L, current.nodes().get(0).intAttr("axis"));
    Node squeeze = Graph.builder().opset(13)
        .input("x", DType.FLOAT32, 1, 3)
        .node("Squeeze", "sq", List.of("x"), List.of("z"), Map.of("axes", Attribute.ofInts(0)))
        .output("z").build().nodes().get(0);
    assertFalse(squeeze.known());
    assertEquals("attribute 'axes', which version 13 of Squeeze does not have (it has none)",
        squeeze.problem());
  }

  @Test
  void windowsTurnAutoPadAndCeilModeIntoPads() {
    Graph g = Graph.builder()
        .input("x", DType.FLOAT32, 1, 1, 7, 7)
        .node("MaxPool", "upper", List.of("x"), List.of("a"), Map.of(
            "kernel_shape", Attribute.ofInts(3, 3), "strides", Attribute.ofInts(2, 2),
            "auto_pad", Attribute.of("SAME_UPPER")))
        .node("MaxPool", "lower", List.of("x"), List.of("b"), Map.of(
            "kernel_shape", Attribute.ofInts(2, 2), "strides", Attribute.ofInts(2, 2),
            "auto_pad", Attribute.of("SAME_LOWER")))
        .node("AveragePool", "ceil", List.of("x"), List.of("c"), Map.of(
            "kernel_shape", Attribute.ofInts(2, 2), "strides", Attribute.ofInts(2, 2),
            "ceil_mode", Attribute.of(1L)))
        .output("a").output("b").output("c").build();
    Window upper = Window.of(g.nodes().get(0), new long[] {7, 7}, new long[] {3, 3});
    assertArrayEquals(new long[] {4, 4}, upper.output());
    assertArrayEquals(new long[] {1, 1}, upper.padBegin());
    assertArrayEquals(new long[] {1, 1}, upper.padEnd());
    Window lower = Window.of(g.nodes().get(1), new long[] {7, 7}, new long[] {2, 2});
    assertArrayEquals(new long[] {1, 1}, lower.padBegin());
    assertArrayEquals(new long[] {0, 0}, lower.padEnd());
    Window ceil = Window.of(g.nodes().get(2), new long[] {7, 7}, new long[] {2, 2});
    assertArrayEquals(new long[] {4, 4}, ceil.output());
  }
}
