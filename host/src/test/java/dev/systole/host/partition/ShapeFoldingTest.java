package dev.systole.host.partition;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.systole.driver.Devices;
import dev.systole.driver.Ticker;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.host.cpu.GraphProbe;
import dev.systole.host.graph.Attribute;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.Node;
import dev.systole.host.quantize.Calibration;
import dev.systole.host.quantize.RangeObserver;
import dev.systole.host.run.Model;
import dev.systole.host.run.ModelRunner;
import dev.systole.host.run.Session;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;
import dev.systole.testing.LeakCheckExtension;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The shape arithmetic an exporter writes around a Reshape, folded for each plan: the flatten
 * target computed from Shape, Gather, Unsqueeze and Concat becomes a constant of the plan, the
 * Reshape becomes a view the device takes, and the model runs as one program at every batch
 * size, with the same answers as ONNX Runtime's float run within int8's error.
 */
@ExtendWith(LeakCheckExtension.class)
class ShapeFoldingTest {
  /** conv -> Reshape(y, [Shape(y)[0], -1]) -> MatMul, the batch size symbolic. */
  private static Graph flattenBySize(Random r) {
    return Graph.builder().name("fold").opset(13).input("x", DType.FLOAT32, "N", 4, 5, 5)
        .initializer("w", ModelRunnerTest.random(r, 0.3, 8, 4, 3, 3))
        .initializer("fc", ModelRunnerTest.random(r, 0.1, 200, 6))
        .initializer("zero", Tensor.ofInt64(new long[] {0}))
        .initializer("axes", Tensor.ofInt64(new long[] {0}, 1))
        .initializer("rest", Tensor.ofInt64(new long[] {-1}, 1))
        .node("Conv", "conv", List.of("x", "w"), List.of("c"), ModelRunnerTest.conv(1))
        .node("Relu", "relu", List.of("c"), List.of("y"), Map.of())
        .node("Shape", "shape", List.of("y"), List.of("s"), Map.of())
        .node("Gather", "batch", List.of("s", "zero"), List.of("n"), Map.of("axis",
            Attribute.of(0L)))
        .node("Unsqueeze", "unsqueeze", List.of("n", "axes"), List.of("n1"), Map.of())
        .node("Concat", "target", List.of("n1", "rest"), List.of("t"), Map.of("axis",
            Attribute.of(0L)))
        .node("Reshape", "flatten", List.of("y", "t"), List.of("f"), Map.of())
        .node("MatMul", "fc", List.of("f", "fc"), List.of("out"), Map.of())
        .output("out").build();
  }

  private static Node node(Graph g, String name) {
    return g.nodes().stream().filter(n -> n.name().equals(name)).findFirst().orElseThrow();
  }

  @Test
  void aReshapeTargetComputedFromShapesIsAConstantOfEachPlan() {
    Random r = new Random(21);
    Graph g = GraphProbe.typed(flattenBySize(r));
    try (Session s = Session.owning(Devices.open("emulator", Ticker.system(), m -> { }))) {
      for (int batch : new int[] {1, 3}) {
        Tensor x = ModelRunnerTest.random(r, 1, batch, 4, 5, 5);
        Model model = Model.of(g, Calibration.run(g, Map.of("x", x),
            RangeObserver.Method.MINMAX));
        Plan plan = model.plan(Map.of("x", x), DeviceParams.defaults());
        for (String folded : List.of("shape", "batch", "unsqueeze", "target")) {
          assertEquals(Plan.Where.CONSTANT, plan.placement(node(model.graph(), folded)).where(),
              folded + " at batch " + batch);
        }
        assertEquals(1, plan.deviceProgramCount(), "conv, flatten view and MatMul in one"
            + " program at batch " + batch);
        assertEquals(0, plan.cpuSegmentCount());
        Tensor want = ModelRunnerTest.reference(g, Map.of("x", x)).get("out");
        Tensor got;
        try (ModelRunner runner = ModelRunner.on(s, model)) {
          got = runner.run(Map.of("x", x)).outputs().get("out");
        }
        ModelRunnerTest.assertWithin(want, got, 0.05, "at batch " + batch);
      }
    }
  }

  /**
   * ONNX Runtime is asked for the shapes with the plan's input shapes, not with the symbolic
   * sizes the model declares for its inputs: a value after an input of symbolic size has a
   * fixed shape for the plan.
   */
  @Test
  void staticShapesUseThePlansInputShapesNotTheDeclaredOnes() {
    Graph built = Graph.builder().name("declared").opset(13)
        .input("x", DType.FLOAT32, "N", "S", 4)
        .node("Relu", "relu", List.of("x"), List.of("y"), Map.of())
        .node("Softmax", "softmax", List.of("y"), List.of("z"), Map.of())
        .output("z").build();
    // Read back from its bytes, as a model file is, so that the input keeps its declaration.
    Graph g = GraphProbe.typed(dev.systole.host.importer.Onnx.read("declared.onnx",
        dev.systole.host.importer.Onnx.write(built)));
    Map<String, long[]> got = GraphProbe.staticShapes(g, Map.of("x", new long[] {2, 3, 4}),
        List.of("y", "z"));
    assertEquals(List.of(2L, 3L, 4L), java.util.Arrays.stream(got.get("y")).boxed().toList());
    assertEquals(List.of(2L, 3L, 4L), java.util.Arrays.stream(got.get("z")).boxed().toList());
  }
}
