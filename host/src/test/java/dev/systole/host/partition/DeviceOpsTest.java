package dev.systole.host.partition;

import dev.systole.host.run.Model;
import dev.systole.host.quantize.Calibration;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.driver.contract.DeviceParams;
import dev.systole.host.graph.Attribute;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.Node;
import dev.systole.host.tensor.DType;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Each device op's verdicts: what it takes, and the reason it gives for what it does not. */
class DeviceOpsTest {
  private static final DeviceParams PARAMS = DeviceParams.defaults();

  /** Where {@code node} runs in {@code g} for inputs of {@code shapes}, as the report says. */
  private static String where(Graph g, String node, Map<String, long[]> shapes) {
    return where(g, node, shapes, PARAMS);
  }

  /** {@link #where(Graph, String, Map)} on a device with {@code params}. */
  private static String where(Graph g, String node, Map<String, long[]> shapes,
      DeviceParams params) {
    Model model = Model.of(g, Calibration.placeholder(g));
    Plan plan = model.planForShapes(shapes, params);
    CompileReport report = CompileReport.of(model.graph(), plan, params);
    return report.rows().stream().filter(r -> r.node().equals(node)).findFirst().orElseThrow()
        .where();
  }

  private static Graph.Builder conv(Random r, int group, long... xShape) {
    return Graph.builder().input("x", DType.FLOAT32, (Object[]) box(xShape))
        .initializer("w", ModelRunnerTest.random(r, 0.3, 8, 8 / group, 3, 3))
        .node("Conv", "conv", List.of("x", "w"), List.of("y"), Map.of("group",
            Attribute.of((long) group), "pads", Attribute.ofInts(1, 1, 1, 1)))
        .output("y");
  }

  private static Object[] box(long[] s) {
    Object[] o = new Object[s.length];
    for (int i = 0; i < s.length; i++) {
      o[i] = s[i];
    }
    return o;
  }

  @Test
  void convolutions() {
    Random r = new Random(1);
    Map<String, long[]> x = Map.of("x", new long[] {1, 8, 6, 6});
    assertTrue(where(conv(r, 1, 1, 8, 6, 6).build(), "conv", x).startsWith("device #0"));
    assertTrue(where(conv(r, 2, 1, 8, 6, 6).build(), "conv", x).startsWith("device #0"),
        "a grouped convolution runs on the array, block-diagonal");
    assertTrue(where(conv(r, 8, 1, 8, 6, 6).build(), "conv", x).startsWith("device #0"),
        "a depthwise convolution runs on the vector unit");
    assertEquals("cpu (a depthwise convolution needs the vector unit (this device has"
        + " VECTOR_UNIT = 0))", where(conv(r, 8, 1, 8, 6, 6).build(), "conv", x,
        PARAMS.with("VECTOR_UNIT=0")));
    Graph oneD = Graph.builder().input("x", DType.FLOAT32, 1, 8, 6)
        .initializer("w", ModelRunnerTest.random(r, 0.3, 8, 8, 3))
        .node("Conv", "conv", List.of("x", "w"), List.of("y"), Map.of())
        .output("y").build();
    assertEquals("cpu (a 1-D convolution (the device runs 2-D))",
        where(oneD, "conv", Map.of("x", new long[] {1, 8, 6})));
  }

  @Test
  void matrixProducts() {
    Random r = new Random(2);
    Graph g = Graph.builder().input("a", DType.FLOAT32, 4, 8).input("b", DType.FLOAT32, 8, 3)
        .input("at", DType.FLOAT32, 8, 4)
        .initializer("w", ModelRunnerTest.random(r, 0.3, 8, 4))
        .node("MatMul", "byConstant", List.of("a", "w"), List.of("c"), Map.of())
        .node("MatMul", "byValue", List.of("a", "b"), List.of("d"), Map.of())
        .node("Gemm", "transA", List.of("at", "w"), List.of("e"), Map.of("transA",
            Attribute.of(1L)))
        .output("c").output("d").output("e").build();
    Map<String, long[]> s = Map.of("a", new long[] {4, 8}, "b", new long[] {8, 3}, "at",
        new long[] {8, 4});
    assertEquals("device #0", where(g, "byConstant", s));
    assertEquals("cpu (a product of two activations needs both from device layers of this"
        + " program, as rows of features)", where(g, "byValue", s));
    assertEquals("cpu (transA)", where(g, "transA", s));
  }

  @Test
  void poolingAndAdds() {
    Random r = new Random(3);
    Graph g = Graph.builder().input("x", DType.FLOAT32, 1, 8, 6, 6)
        .initializer("w", ModelRunnerTest.random(r, 0.3, 8, 8, 3, 3))
        .node("Hardmax", "cpuOnly", List.of("x"), List.of("y2"), Map.of())
        .node("Relu", "relu", List.of("y2"), List.of("r"), Map.of())
        .node("Conv", "conv", List.of("x", "w"), List.of("y"), Map.of("pads",
            Attribute.ofInts(1, 1, 1, 1)))
        .node("Add", "residual", List.of("y", "y2"), List.of("s"), Map.of())
        .node("Add", "hostOnly", List.of("x", "y2"), List.of("t"), Map.of())
        .node("MaxPool", "pool", List.of("y"), List.of("p", "idx"), Map.of("kernel_shape",
            Attribute.ofInts(2, 2)))
        .initializer("v", ModelRunnerTest.random(r, 0.3, 6))
        .node("Add", "broadcast", List.of("y", "v"), List.of("u"), Map.of())
        .output("p").output("idx").output("s").output("t").output("u").output("r").build();
    Map<String, long[]> x = Map.of("x", new long[] {1, 8, 6, 6});
    assertEquals("cpu (the Indices output)", where(g, "pool", x));
    assertTrue(where(g, "residual", x).startsWith("device #"), where(g, "residual", x));
    assertEquals("cpu (neither operand comes from a device layer)", where(g, "hostOnly", x));
    assertEquals("cpu (a constant that is not one value per channel)",
        where(g, "broadcast", x));
    assertEquals("cpu (its input does not come from a device layer (alone, it would only add"
        + " a trip to the device))", where(g, "relu", x),
        "a Relu that follows no device layer stays with its input");
  }

  @Test
  void theRegistryHasOneOpPerTypeAndTakesOnlyKnownNodesOfTheDefaultDomain() {
    assertThrows(IllegalArgumentException.class,
        () -> new DeviceOps(List.of(new ConvOp(), new ConvOp())));
    Graph g = Graph.builder().input("x", DType.FLOAT32, 2)
        .node("com.example", "Conv", "custom", List.of("x"), List.of("y"), Map.of())
        .output("y").build();
    Node custom = g.nodes().get(0);
    assertTrue(DeviceOps.standard().of(custom).isEmpty(), "another domain's Conv");
    Graph c = conv(new Random(4), 1, 1, 8, 6, 6).build();
    assertTrue(DeviceOps.standard().of(c.nodes().get(0)).orElseThrow() instanceof ConvOp);
    Node relu = Graph.builder().input("x", DType.FLOAT32, 2).node("Relu", List.of("x"),
        List.of("y")).output("y").build().nodes().get(0);
    assertTrue(DeviceOps.standard().of(relu).orElseThrow() instanceof TableOp);
    Node hardmax = Graph.builder().input("x", DType.FLOAT32, 2).node("Hardmax", List.of("x"),
        List.of("y")).output("y").build().nodes().get(0);
    assertTrue(DeviceOps.standard().of(hardmax).isEmpty());
  }
}
