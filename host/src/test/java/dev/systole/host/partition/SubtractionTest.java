package dev.systole.host.partition;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.systole.driver.Devices;
import dev.systole.driver.Ticker;
import dev.systole.driver.contract.DeviceParams;
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
 * Sub on the device in its three forms: of two activations (VADD with the second multiplier
 * negated), of a scalar (a function by table) and from a constant per channel (an affine map,
 * the slope -1), against ONNX Runtime.
 */
@ExtendWith(LeakCheckExtension.class)
class SubtractionTest {
  @Test
  void differencesOfActivationsScalarsAndChannelConstantsRunOnTheDevice() {
    Random r = new Random(71);
    Graph g = Graph.builder().name("sub").opset(13).input("x", DType.FLOAT32, "N", 3, 6, 6)
        .initializer("w1", ModelRunnerTest.random(r, 0.3, 8, 3, 3, 3))
        .initializer("w2", ModelRunnerTest.random(r, 0.3, 8, 3, 3, 3))
        .initializer("half", Tensor.ofFloat32(new float[] {0.5f}))
        .initializer("per", ModelRunnerTest.random(r, 0.5, 8, 1, 1))
        .node("Conv", "c1", List.of("x", "w1"), List.of("a"), ModelRunnerTest.conv(1))
        .node("Conv", "c2", List.of("x", "w2"), List.of("b"), ModelRunnerTest.conv(1))
        .node("Sub", "diff", List.of("a", "b"), List.of("d"), Map.of())
        .node("Sub", "minus_half", List.of("d", "half"), List.of("e"), Map.of())
        .node("Sub", "from_channels", List.of("per", "e"), List.of("y"), Map.of())
        .output("y").build();
    Tensor x = ModelRunnerTest.random(r, 1, 2, 3, 6, 6);
    Model model = Model.of(g, Calibration.run(g, Map.of("x", x), RangeObserver.Method.MINMAX));
    Plan plan = model.plan(Map.of("x", x), DeviceParams.defaults());
    for (Node n : model.graph().nodes()) {
      assertEquals(Plan.Where.DEVICE, plan.placement(n).where(), n.name());
    }
    Tensor want = ModelRunnerTest.reference(g, Map.of("x", x)).get("y");
    try (Session s = Session.owning(Devices.open("emulator", Ticker.system(), m -> { }));
        ModelRunner runner = ModelRunner.on(s, model)) {
      ModelRunnerTest.assertWithin(want, runner.run(Map.of("x", x)).outputs().get("y"), 0.05,
          "y");
    }
  }
}
