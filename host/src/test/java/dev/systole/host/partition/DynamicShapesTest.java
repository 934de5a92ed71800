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
import java.util.List;
import java.util.Map;
import java.util.Random;
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
        .node("Erf", "erf", List.of("a"), List.of("e"), Map.of())
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
        assertEquals(2, res.devicePrograms(), "the Erf between the two MatMuls");
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
}
