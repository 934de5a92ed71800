package dev.systole.host.partition;

import dev.systole.host.run.ModelRunner;
import dev.systole.host.run.Model;
import dev.systole.host.quantize.Calibration;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.driver.Devices;
import dev.systole.driver.Ticker;
import dev.systole.host.graph.Graph;
import dev.systole.host.quantize.RangeObserver;
import dev.systole.host.run.Session;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;
import dev.systole.testing.LeakCheckExtension;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A model with symbolic batch and sequence axes and an op Systole does not interpret between
 * its device layers: every input shape gets a plan of its own (shapes past the opaque op from
 * a float run in the CPU engine), cached, and each runs correctly.
 */
@ExtendWith(LeakCheckExtension.class)
class DynamicShapesTest {
  @Test
  void eachInputShapeGetsItsPlanAndRunsThroughTheOpaqueOp() {
    Random r = new Random(7);
    Graph g = Graph.builder().name("dyn").input("x", DType.FLOAT32, "B", "S", 8)
        .initializer("w1", ModelRunnerTest.random(r, 0.4, 8, 6))
        .initializer("w2", ModelRunnerTest.random(r, 0.4, 6, 4))
        .node("MatMul", "mm1", List.of("x", "w1"), List.of("a"), Map.of())
        .node("Hardmax", "erf", List.of("a"), List.of("e"), Map.of())
        .node("MatMul", "mm2", List.of("e", "w2"), List.of("y"), Map.of())
        .output("y").build();
    Tensor calib = ModelRunnerTest.random(r, 1, 16, 4, 8);
    Model model = Model.of(g, Calibration.run(g, Map.of("x", calib),
        RangeObserver.Method.MINMAX));
    try (Session s = Session.owning(Devices.open("emulator", Ticker.system(), m -> { }));
        ModelRunner runner = ModelRunner.on(s, model)) {
      for (long[] shape : List.of(new long[] {2, 5, 8}, new long[] {3, 7, 8},
          new long[] {2, 5, 8})) {
        Tensor x = ModelRunnerTest.random(r, 1, shape);
        Tensor want = ModelRunnerTest.reference(g, Map.of("x", x)).get("y");
        ModelRunner.Result res = runner.run(Map.of("x", x));
        Tensor got = res.outputs().get("y");
        assertArrayEquals(new long[] {shape[0], shape[1], 4}, got.shape());
        assertEquals(2, res.devicePrograms(), "the Hardmax between the two MatMuls");
        float range = 0;
        for (int i = 0; i < want.numel(); i++) {
          range = Math.max(range, Math.abs(want.getFloat32(i)));
        }
        for (int i = 0; i < want.numel(); i++) {
          assertEquals(want.getFloat32(i), got.getFloat32(i), 0.05 * range, "element " + i);
        }
      }
      assertEquals(2, model.cachedPlans(), "one plan per input shape, reused");
      assertTrue(runner.loadedPrograms() >= 2);
    }
  }

  /**
   * A shape that depends on values (NonZero's) is measured by a float run for the plan, and
   * may differ on the next run, so its value is never written into a tensor of the plan's shape:
   * each run gives what ONNX Runtime gives. A shape that follows from the input shapes (the
   * Sigmoid's) is, and the device reads it from there.
   */
  @Test
  void aShapeThatDependsOnValuesIsComputedAgainOnEachRun() {
    Random r = new Random(8);
    Graph g = Graph.builder().name("nz").input("x", DType.FLOAT32, "N", 4)
        .initializer("w", ModelRunnerTest.random(r, 0.4, 4, 4))
        .node("Sigmoid", "sigmoid", List.of("x"), List.of("s"), Map.of())
        .node("MatMul", "mm", List.of("s", "w"), List.of("y"), Map.of())
        .node("NonZero", "nonzero", List.of("x"), List.of("nz"), Map.of())
        .output("y").output("nz").build();
    Model model = Model.of(g, Calibration.run(g, Map.of("x", ModelRunnerTest.random(r, 1, 8,
        4)), RangeObserver.Method.MINMAX));
    try (Session s = Session.owning(Devices.open("emulator", Ticker.system(), m -> { }));
        ModelRunner runner = ModelRunner.on(s, model)) {
      Set<Long> counts = new HashSet<>();
      for (int trial = 0; trial < 4; trial++) {
        Tensor x = ModelRunnerTest.random(r, 1, 3, 4);
        for (int i = 0; i < x.numel(); i += 1 + trial) {
          x.setFloat32(i, 0f);
        }
        Map<String, Tensor> got = runner.run(Map.of("x", x)).outputs();
        Map<String, Tensor> want = ModelRunnerTest.reference(g, Map.of("x", x));
        assertEquals(want.get("nz"), got.get("nz"), "trial " + trial);
        counts.add(got.get("nz").dim(1));
        for (int i = 0; i < 12; i++) {
          assertEquals(want.get("y").getFloat32(i), got.get("y").getFloat32(i), 0.05,
              "trial " + trial + ", element " + i);
        }
      }
      assertTrue(counts.size() > 1, "the trials have different numbers of nonzeros");
      assertEquals(1, model.cachedPlans());
    }
  }
}
