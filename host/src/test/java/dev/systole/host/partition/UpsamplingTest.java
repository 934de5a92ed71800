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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Decoder-style upsampling between convolutions: nearest Resize by whole factors, in the
 * coordinate modes exporters write, runs on the device as addressing, and a Resize whose
 * modes pick other pixels stays on the CPU; a ConvTranspose, grouped or not, runs on the array
 * as a convolution of its spread input. The answers agree with ONNX Runtime's float run.
 */
@ExtendWith(LeakCheckExtension.class)
class UpsamplingTest {
  private static Graph upsample(Random r, float sh, float sw, String transform, String rounding) {
    Map<String, Attribute> attrs = new HashMap<>();
    attrs.put("mode", Attribute.of("nearest"));
    attrs.put("coordinate_transformation_mode", Attribute.of(transform));
    attrs.put("nearest_mode", Attribute.of(rounding));
    return Graph.builder().name("up").opset(13).input("x", DType.FLOAT32, "N", 6, 5, 7)
        .initializer("w1", ModelRunnerTest.random(r, 0.3, 20, 6, 3, 3))
        .initializer("w2", ModelRunnerTest.random(r, 0.1, 4, 20, 3, 3))
        .initializer("roi", Tensor.ofFloat32(new float[0], 0))
        .initializer("scales", Tensor.ofFloat32(new float[] {1, 1, sh, sw}, 4))
        .node("Conv", "conv1", List.of("x", "w1"), List.of("c"), ModelRunnerTest.conv(1))
        .node("Relu", "relu", List.of("c"), List.of("c1"), Map.of())
        .node("Resize", "resize", List.of("c1", "roi", "scales"), List.of("u"), attrs)
        .node("Conv", "conv2", List.of("u", "w2"), List.of("y"), ModelRunnerTest.conv(1))
        .output("y").build();
  }

  @Test
  void wholeFactorsRunOnTheDeviceInEveryModeThatPicksTheirPixels() {
    Random r = new Random(41);
    String[][] modes = {{"half_pixel", "round_prefer_floor"}, {"asymmetric", "floor"},
        {"pytorch_half_pixel", "round_prefer_ceil"}, {"tf_half_pixel_for_nn", "floor"}};
    try (Session s = Session.owning(Devices.open("emulator", Ticker.system(), m -> { }))) {
      for (String[] mode : modes) {
        float[][] factors = {{2, 2}, {3, 1}};
        for (float[] f : factors) {
          check(s, upsample(r, f[0], f[1], mode[0], mode[1]), r, true,
              mode[0] + "/" + mode[1] + " x" + f[0] + "," + f[1]);
        }
      }
      // align_corners stretches the input over the output: by 3, not pixel o / factor (by 2,
      // rounding happens to give it, and the device takes it).
      check(s, upsample(r, 3, 3, "align_corners", "round_prefer_floor"), r, false,
          "align_corners x3");
      check(s, upsample(r, 2, 2, "align_corners", "round_prefer_floor"), r, true,
          "align_corners x2");
    }
  }



  /** conv -> relu -> ConvTranspose (with its attributes) -> relu. */
  private static Graph transposed(Random r, int k, Map<String, Attribute> attrs, boolean bias) {
    Graph.Builder b = Graph.builder().name("deconv").opset(13)
        .input("x", DType.FLOAT32, "N", 6, 5, 7)
        .initializer("w1", ModelRunnerTest.random(r, 0.3, 20, 6, 3, 3))
        .initializer("wt", ModelRunnerTest.random(r, 0.15, 20, 9, k, k))
        .initializer("bt", ModelRunnerTest.random(r, 0.2, 9 * attrs.getOrDefault("group",
            Attribute.of(1L)).asInt()))
        .node("Conv", "conv1", List.of("x", "w1"), List.of("c"), ModelRunnerTest.conv(1))
        .node("Relu", "relu", List.of("c"), List.of("c1"), Map.of());
    return b.node("ConvTranspose", "deconv", bias ? List.of("c1", "wt", "bt")
        : List.of("c1", "wt"), List.of("d"), attrs)
        .node("Relu", "relu2", List.of("d"), List.of("y"), Map.of())
        .output("y").build();
  }

  @Test
  void transposedConvolutionsRunOnTheArray() {
    Random r = new Random(42);
    List<Map<String, Attribute>> cases = List.of(
        Map.of("strides", Attribute.ofInts(2, 2)),
        Map.of("strides", Attribute.ofInts(2, 2), "pads", Attribute.ofInts(1, 1, 1, 1),
            "output_padding", Attribute.ofInts(1, 1)),
        Map.of("strides", Attribute.ofInts(3, 2), "pads", Attribute.ofInts(0, 1, 2, 0)),
        Map.of("dilations", Attribute.ofInts(2, 2), "pads", Attribute.ofInts(1, 1, 1, 1)),
        Map.of("strides", Attribute.ofInts(2, 2), "group", Attribute.of(2L)),
        Map.of("strides", Attribute.ofInts(2, 1), "group", Attribute.of(4L), "pads",
            Attribute.ofInts(1, 0, 1, 0)),
        Map.of());
    try (Session s = Session.owning(Devices.open("emulator", Ticker.system(), m -> { }))) {
      for (int i = 0; i < cases.size(); i++) {
        checkNode(s, transposed(r, 3, cases.get(i), i % 2 == 0), r, "deconv", true, 1,
            "case " + i + " " + cases.get(i).keySet());
      }
      checkNode(s, transposed(r, 4, Map.of("strides", Attribute.ofInts(2, 2), "pads",
          Attribute.ofInts(1, 1, 1, 1)), true), r, "deconv", true, 1,
          "4x4 stride 2 (DCGAN)");
      // Pads beyond the kernel's reach crop more than the spread convolution can: the CPU.
      checkNode(s, transposed(r, 3, Map.of("strides", Attribute.ofInts(2, 2), "pads",
          Attribute.ofInts(3, 3, 3, 3)), false), r, "deconv", false, 1,
          "pads 3 on a 3x3 kernel");
    }
  }

  private static void check(Session s, Graph g, Random r, boolean onDevice, String what) {
    checkNode(s, g, r, "resize", onDevice, onDevice ? 1 : 2, what);
  }

  /**
   * Runs {@code g} on the emulator against ONNX Runtime's float run, with node {@code node} on
   * the device or on the CPU as {@code onDevice} says, in {@code programs} device programs.
   */
  private static void checkNode(Session s, Graph g, Random r, String node, boolean onDevice,
      int programs, String what) {
    Tensor x = ModelRunnerTest.random(r, 1, 2, 6, 5, 7);
    Model model = Model.of(g, Calibration.run(g, Map.of("x", x), RangeObserver.Method.MINMAX));
    Plan plan = model.plan(Map.of("x", x), DeviceParams.defaults());
    Node at = model.graph().nodes().stream().filter(n -> n.name().equals(node))
        .findFirst().orElseThrow();
    assertEquals(onDevice ? Plan.Where.DEVICE : Plan.Where.CPU, plan.placement(at).where(),
        what);
    assertEquals(programs, plan.deviceProgramCount(), what);
    Tensor want = ModelRunnerTest.reference(g, Map.of("x", x)).get("y");
    Tensor got;
    try (ModelRunner runner = ModelRunner.on(s, model)) {
      got = runner.run(Map.of("x", x)).outputs().get("y");
    }
    ModelRunnerTest.assertWithin(want, got, 0.05, what);
  }
}
