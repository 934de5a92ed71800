package dev.systole.host.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Integers a model's attributes give are checked where they enter, with the allowed range in
 * the message, so none overflows later: window attributes when the graph is built, and the
 * sizes they lead to when shapes are inferred.
 */
class AttributeRangesTest {
  private static Graph conv(Map<String, Attribute> attrs) {
    return Graph.builder().name("c").input("x", DType.FLOAT32, "N", 2, 8, 8).output("y")
        .initializer("w", Tensor.allocate(DType.FLOAT32, 4, 2, 3, 3))
        .node("Conv", "conv", List.of("x", "w"), List.of("y"), attrs).build();
  }

  @Test
  void windowAttributesOutsideTheirRangeAreRefusedWithIt() {
    long big = 1L << 40;
    ModelException e = assertThrows(ModelException.class,
        () -> conv(Map.of("pads", Attribute.ofInts(big, big, big, big))));
    assertEquals("Conv node 'conv': attribute 'pads' has [" + big + ", " + big + ", " + big
        + ", " + big + "] (expected every value from 0 to 1048576)", e.getMessage());
    e = assertThrows(ModelException.class,
        () -> conv(Map.of("dilations", Attribute.ofInts(1, big))));
    assertEquals("Conv node 'conv': attribute 'dilations' has [1, " + big + "] (expected every"
        + " value from 1 to 1048576)", e.getMessage());
    e = assertThrows(ModelException.class,
        () -> conv(Map.of("strides", Attribute.ofInts(0, 1))));
    assertEquals("Conv node 'conv': attribute 'strides' has [0, 1] (expected every value from 1"
        + " to 1048576)", e.getMessage());
    e = assertThrows(ModelException.class, () -> conv(Map.of("group", Attribute.of(big))));
    assertEquals("Conv node 'conv': attribute 'group' is " + big + " (expected 1 to 1048576)",
        e.getMessage());
  }

  @Test
  void aShapeTooLargeForATensorIsRefusedWhereItIsInferred() {
    long max = 1 << 20;
    Graph g = conv(Map.of("pads", Attribute.ofInts(max, max, max, max)));
    ModelException e = assertThrows(ModelException.class,
        () -> g.inferShapes(Map.of("x", new long[] {2, 2, 8, 8})));
    assertEquals("Conv node 'conv': output 'y' would be 2x4x2097158x2097158, 3.518e+13 elements"
        + " (expected at most 2147483647, the most one tensor holds)", e.getMessage());
    e = assertThrows(ModelException.class,
        () -> Inputs.check(g, Map.of("x", Tensor.allocate(DType.FLOAT32, 2, 2, 8, 8))));
    assertEquals("Conv node 'conv': output 'y' would be 2x4x2097158x2097158, 3.518e+13 elements"
        + " (expected at most 2147483647, the most one tensor holds)", e.getMessage(),
        "inputs are checked against it before anything runs");
  }
}
