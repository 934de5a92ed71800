package dev.systole.host.partition;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.systole.driver.Devices;
import dev.systole.driver.Ticker;
import dev.systole.driver.contract.DeviceParams;
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
 * Reductions of a feature map on the device: the maximum and the mean over each pixel's
 * channels (a spatial-attention map, as CBAM builds it), and the maximum over the pixels
 * (GlobalMaxPool and ReduceMax over axes 2 and 3), all in one program, against ONNX Runtime.
 */
@ExtendWith(LeakCheckExtension.class)
class ReductionsTest {
  @Test
  void maximaAndMeansOverChannelsAndPixelsRunOnTheDevice() {
    Random r = new Random(61);
    for (int c : new int[] {24, 8}) {
      Map<String, Attribute> channels = Map.of("axes", Attribute.ofInts(1), "keepdims",
          Attribute.of(1L));
      Map<String, Attribute> pixels = Map.of("axes", Attribute.ofInts(2, 3), "keepdims",
          Attribute.of(1L));
      Graph g = Graph.builder().name("reduce").opset(13).input("x", DType.FLOAT32, "N", 3, 9, 7)
          .initializer("w", ModelRunnerTest.random(r, 0.3, c, 3, 3, 3))
          .initializer("w2", ModelRunnerTest.random(r, 0.3, 4, 2, 3, 3))
          .node("Conv", "conv", List.of("x", "w"), List.of("f"), ModelRunnerTest.conv(1))
          .node("ReduceMax", "cmax", List.of("f"), List.of("mx"), channels)
          .node("ReduceMean", "cmean", List.of("f"), List.of("mn"), channels)
          .node("Concat", "cat", List.of("mx", "mn"), List.of("m2"), Map.of("axis",
              Attribute.of(1L)))
          .node("Conv", "conv2", List.of("m2", "w2"), List.of("a"), ModelRunnerTest.conv(1))
          .node("GlobalMaxPool", "gmax", List.of("a"), List.of("y"), Map.of())
          .node("ReduceMax", "smax", List.of("f"), List.of("z"), pixels)
          .output("y").output("z").build();
      Tensor x = ModelRunnerTest.random(r, 1, 2, 3, 9, 7);
      Model model = Model.of(g, Calibration.run(g, Map.of("x", x),
          RangeObserver.Method.MINMAX));
      Plan plan = model.plan(Map.of("x", x), DeviceParams.defaults());
      for (Node n : model.graph().nodes()) {
        assertEquals(Plan.Where.DEVICE, plan.placement(n).where(), n.name() + " of " + c);
      }
      assertEquals(1, plan.deviceProgramCount());
      Map<String, Tensor> want = ModelRunnerTest.reference(g, Map.of("x", x));
      try (Session s = Session.owning(Devices.open("emulator", Ticker.system(), m -> { }));
          ModelRunner runner = ModelRunner.on(s, model)) {
        Map<String, Tensor> got = runner.run(Map.of("x", x)).outputs();
        for (String out : List.of("y", "z")) {
          ModelRunnerTest.assertWithin(want.get(out), got.get(out), 0.05, out + " of " + c);
        }
      }
    }
  }
}
