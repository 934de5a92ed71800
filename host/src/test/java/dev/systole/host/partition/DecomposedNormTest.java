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
 * The layer normalization exporters write as nodes before opset 17 (ReduceMean, Sub, Pow,
 * ReduceMean, Add, Sqrt, Div, Mul, Add) is one VNORM on the device, with its scale, bias and
 * epsilon, in the forms exporters use (Pow or Mul for the square, with or without the affine
 * part), and agrees with ONNX Runtime's float run; a variance over another axis is not taken.
 */
@ExtendWith(LeakCheckExtension.class)
class DecomposedNormTest {
  private static Graph decomposed(Random r, int c, boolean pow, boolean affine, long axis) {
    Graph.Builder b = Graph.builder().name("ln").opset(13).input("x", DType.FLOAT32, "N", 6, c)
        .initializer("w", ModelRunnerTest.random(r, 0.3, c, c))
        .initializer("w2", ModelRunnerTest.random(r, 0.3, c, 8))
        .initializer("two", Tensor.ofFloat32(new float[] {2f}))
        .initializer("eps", Tensor.ofFloat32(new float[] {1e-5f}))
        .initializer("gamma", ModelRunnerTest.random(r, 0.5, c))
        .initializer("beta", ModelRunnerTest.random(r, 0.2, c));
    Map<String, Attribute> mean = Map.of("axes", Attribute.ofInts(-1), "keepdims",
        Attribute.of(1L));
    Map<String, Attribute> variance = Map.of("axes", Attribute.ofInts(axis), "keepdims",
        Attribute.of(1L));
    b.node("MatMul", "fc", List.of("x", "w"), List.of("h"), Map.of())
        .node("ReduceMean", "mean", List.of("h"), List.of("m"), mean)
        .node("Sub", "centre", List.of("h", "m"), List.of("d"), Map.of());
    if (pow) {
      b.node("Pow", "square", List.of("d", "two"), List.of("d2"), Map.of());
    } else {
      b.node("Mul", "square", List.of("d", "d"), List.of("d2"), Map.of());
    }
    b.node("ReduceMean", "variance", List.of("d2"), List.of("v"), variance)
        .node("Add", "plus_eps", List.of("v", "eps"), List.of("ve"), Map.of())
        .node("Sqrt", "sqrt", List.of("ve"), List.of("s"), Map.of())
        .node("Div", "normed", List.of("d", "s"), List.of("n"), Map.of());
    String out = "n";
    if (affine) {
      b.node("Mul", "scale", List.of("n", "gamma"), List.of("n1"), Map.of())
          .node("Add", "shift", List.of("n1", "beta"), List.of("n2"), Map.of());
      out = "n2";
    }
    return b.node("MatMul", "fc2", List.of(out, "w2"), List.of("y"), Map.of())
        .output("y").build();
  }

  @Test
  void theDecomposedFormIsOneNormalizationOnTheDevice() {
    Random r = new Random(51);
    try (Session s = Session.owning(Devices.open("emulator", Ticker.system(), m -> { }))) {
      for (boolean pow : new boolean[] {true, false}) {
        for (boolean affine : new boolean[] {true, false}) {
          check(s, decomposed(r, 32, pow, affine, -1), r, true, (pow ? "pow" : "mul")
              + (affine ? ", affine" : ""));
        }
      }
      check(s, decomposed(r, 32, true, true, 1), r, false, "variance over the sequence");
    }
  }

  private static void check(Session s, Graph g, Random r, boolean fused, String what) {
    Tensor x = ModelRunnerTest.random(r, 1, 2, 6, 32);
    Model model = Model.of(g, Calibration.run(g, Map.of("x", x), RangeObserver.Method.MINMAX));
    Plan plan = model.plan(Map.of("x", x), DeviceParams.defaults());
    for (Node n : model.graph().nodes()) {
      if (n.name().equals("mean")) {
        assertEquals(fused ? Plan.Where.DEVICE : Plan.Where.CPU, plan.placement(n).where(),
            what);
      } else if (fused && !n.name().startsWith("fc")) {
        assertEquals(Plan.Where.FUSED, plan.placement(n).where(), what + ": " + n.name());
      }
    }
    if (fused) {
      assertEquals(1, plan.deviceProgramCount(), what);
    }
    Tensor want = ModelRunnerTest.reference(g, Map.of("x", x)).get("y");
    Tensor got;
    try (ModelRunner runner = ModelRunner.on(s, model)) {
      got = runner.run(Map.of("x", x)).outputs().get("y");
    }
    ModelRunnerTest.assertWithin(want, got, 0.05, what);
  }
}
