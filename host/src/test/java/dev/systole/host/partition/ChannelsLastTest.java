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
 * A ConvNeXt block's channels-last middle on the device: the Transposes to and from the
 * channels-last view are no layers, the LayerNormalization normalizes each pixel's channels,
 * the MatMuls over the channels are 1x1 convolutions of the map, and the block runs as one
 * program with the same answers as ONNX Runtime's float run within int8's error.
 */
@ExtendWith(LeakCheckExtension.class)
class ChannelsLastTest {
  /** dwconv -> to channels-last -> LayerNorm -> MatMul+bias -> Relu -> MatMul -> back -> +x. */
  private static Graph block(Random r, int c) {
    return Graph.builder().name("cnblock").opset(17).input("x", DType.FLOAT32, "N", c, 6, 6)
        .initializer("dw", ModelRunnerTest.random(r, 0.3, c, 1, 3, 3))
        .initializer("gamma", ModelRunnerTest.random(r, 1, c))
        .initializer("beta", ModelRunnerTest.random(r, 0.2, c))
        .initializer("w1", ModelRunnerTest.random(r, 0.2, c, 2 * c))
        .initializer("b1", ModelRunnerTest.random(r, 0.1, 2 * c))
        .initializer("w2", ModelRunnerTest.random(r, 0.2, 2 * c, c))
        .node("Conv", "dwconv", List.of("x", "dw"), List.of("d"), Map.of("group",
            Attribute.of((long) c), "pads", Attribute.ofInts(1, 1, 1, 1)))
        .node("Transpose", "to_last", List.of("d"), List.of("t"), Map.of("perm",
            Attribute.ofInts(0, 2, 3, 1)))
        .node("LayerNormalization", "ln", List.of("t", "gamma", "beta"), List.of("l"),
            Map.of("axis", Attribute.of(-1L)))
        .node("MatMul", "fc1", List.of("l", "w1"), List.of("h0"), Map.of())
        .node("Add", "fc1_bias", List.of("h0", "b1"), List.of("h1"), Map.of())
        .node("Relu", "act", List.of("h1"), List.of("h"), Map.of())
        .node("MatMul", "fc2", List.of("h", "w2"), List.of("m"), Map.of())
        .node("Transpose", "to_first", List.of("m"), List.of("b"), Map.of("perm",
            Attribute.ofInts(0, 3, 1, 2)))
        .node("Add", "residual", List.of("b", "d"), List.of("y"), Map.of())
        .output("y").build();
  }

  private static Node node(Graph g, String name) {
    return g.nodes().stream().filter(n -> n.name().equals(name)).findFirst().orElseThrow();
  }

  @Test
  void aConvNextBlockRunsAsOneProgram() {
    Random r = new Random(31);
    Graph g = GraphProbe.typed(block(r, 32));
    Tensor x = ModelRunnerTest.random(r, 1, 2, 32, 6, 6);
    Model model = Model.of(g, Calibration.run(g, Map.of("x", x), RangeObserver.Method.MINMAX));
    Plan plan = model.plan(Map.of("x", x), DeviceParams.defaults());
    assertEquals(1, plan.deviceProgramCount());
    assertEquals(0, plan.cpuSegmentCount());
    for (String n : List.of("dwconv", "ln", "fc1", "fc2", "residual")) {
      assertEquals(Plan.Where.DEVICE, plan.placement(node(model.graph(), n)).where(), n);
    }
    Tensor want = ModelRunnerTest.reference(g, Map.of("x", x)).get("y");
    Tensor got;
    try (Session s = Session.owning(Devices.open("emulator", Ticker.system(), m -> { }));
        ModelRunner runner = ModelRunner.on(s, model)) {
      got = runner.run(Map.of("x", x)).outputs().get("y");
    }
    ModelRunnerTest.assertWithin(want, got, 0.06, "y");
  }

  @Test
  void withoutTheVectorUnitTheChannelsLastMiddleStaysOnTheCpu() {
    Random r = new Random(32);
    Graph g = GraphProbe.typed(block(r, 16));
    Tensor x = ModelRunnerTest.random(r, 1, 1, 16, 6, 6);
    Model model = Model.of(g, Calibration.run(g, Map.of("x", x), RangeObserver.Method.MINMAX));
    Plan plan = model.plan(Map.of("x", x), DeviceParams.defaults().with("VECTOR_UNIT=0"));
    assertEquals(Plan.Where.CPU, plan.placement(node(model.graph(), "ln")).where());
    assertEquals(Plan.Where.CPU, plan.placement(node(model.graph(), "to_last")).where());
  }
}
