package dev.systole.host.partition;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.driver.Devices;
import dev.systole.driver.Ticker;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.host.graph.Graph;
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
 * Values a quantized model cannot hold: NaN and infinities in its inputs, its calibration data
 * and its weights, and calibration data that says nothing about a range (empty or constant).
 * Each is refused naming the tensor (and for a non-finite value, its index), never quantized
 * into a confident answer.
 */
@ExtendWith(LeakCheckExtension.class)
class NonFiniteValuesTest {
  private static Model calibrated(Graph g, Random r) {
    return Model.of(g, Calibration.run(g, Map.of("x", ModelRunnerTest.positive(r, 1f, 32, 3, 8,
        8)), RangeObserver.Method.MINMAX));
  }

  private static IllegalArgumentException runRefused(Model model, Tensor x) {
    try (Session s = Session.owning(Devices.open("emulator", Ticker.system(), m -> { }));
        ModelRunner runner = ModelRunner.on(s, model)) {
      return assertThrows(IllegalArgumentException.class, () -> runner.run(Map.of("x", x)));
    }
  }

  @Test
  void aNanOrAnInfinityInAnInputIsRefusedWithItsIndex() {
    Random r = new Random(1);
    Graph g = ModelRunnerTest.cnn(r);
    Model model = calibrated(g, r);
    Tensor x = ModelRunnerTest.positive(r, 1f, 2, 3, 8, 8);
    x.setFloat32(3 * 64 + 2 * 8 + 5, Float.NaN);
    IllegalArgumentException e = runRefused(model, x);
    assertTrue(e.getMessage().startsWith("value 'x' holds NaN at index [1, 0, 2, 5]"),
        e.getMessage());
    x.setFloat32(3 * 64 + 2 * 8 + 5, 0.5f);
    x.setFloat32(7, Float.POSITIVE_INFINITY);
    e = runRefused(model, x);
    assertTrue(e.getMessage().startsWith("value 'x' holds Infinity at index [0, 0, 0, 7]"),
        e.getMessage());
  }

  @Test
  void aNanWeightIsRefusedNamingTheWeight() {
    Random r = new Random(2);
    Graph clean = ModelRunnerTest.cnn(r);
    Tensor w2 = clean.initializers().get("w2");
    Tensor bad = Tensor.ofFloat32(w2.toFloatArray(), w2.shape());
    bad.setFloat32(11, Float.NaN);
    Graph g = clean.edit().initializer("w2", bad).build();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> calibrated(g, r).planForShapes(Map.of("x", new long[] {1, 3, 8, 8}),
            DeviceParams.defaults()));
    assertTrue(e.getMessage().startsWith("constant 'w2' of node 'conv2' holds NaN at index"
        + " [0, 1, 0, 2]"), e.getMessage());
  }

  @Test
  void aNanInAConstantADeviceLayerFoldsInIsRefused() {
    for (String op : List.of("Mul", "Add", "Sub")) {
      Random r = new Random(5);
      Tensor k = Tensor.ofFloat32(new float[] {1f, 2f, Float.POSITIVE_INFINITY, 3f}, 1, 4, 1, 1);
      Graph g = Graph.builder().input("x", DType.FLOAT32, "N", 4, 6, 6).output("y")
          .initializer("w", ModelRunnerTest.random(r, 0.3, 4, 4, 3, 3)).initializer("k", k)
          .node("Conv", "c", List.of("x", "w"), List.of("a"), ModelRunnerTest.conv(1))
          .node(op, "scale", List.of("a", "k"), List.of("y"), Map.of()).build();
      Model model = Model.of(g, Calibration.run(g, Map.of("x", ModelRunnerTest.positive(r, 1f,
          4, 4, 6, 6)), RangeObserver.Method.MINMAX));
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> model.planForShapes(Map.of("x", new long[] {1, 4, 6, 6}),
              DeviceParams.defaults()), op);
      assertTrue(e.getMessage().startsWith("constant 'k' of node 'scale' holds Infinity at"
          + " index [0, 2, 0, 0]"), op + ": " + e.getMessage());
    }
  }

  @Test
  void calibrationDataThatIsNonFiniteEmptyOrConstantIsRefusedByName() {
    Random r = new Random(3);
    Graph g = ModelRunnerTest.cnn(r);
    Tensor nan = ModelRunnerTest.positive(r, 1f, 4, 3, 8, 8);
    nan.setFloat32(200, Float.NaN);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Calibration.run(g, Map.of("x", nan), RangeObserver.Method.MINMAX));
    assertTrue(e.getMessage().startsWith("calibration data for input 'x' holds NaN at index"
        + " [1, 0, 1, 0]"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> Calibration.run(g, Map.of("x", Tensor.allocate(DType.FLOAT32, 0, 3, 8, 8)),
            RangeObserver.Method.MINMAX));
    assertEquals("calibration data for input 'x' is empty (shape 0x3x8x8; expected at least"
        + " one sample)", e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> Calibration.run(g, Map.of("x", Tensor.allocate(DType.FLOAT32, 4, 3, 8, 8)),
            RangeObserver.Method.PERCENTILE));
    assertTrue(e.getMessage().startsWith("calibration data for input 'x' is 0.0 throughout"),
        e.getMessage());
  }

  @Test
  void outliersThatSetAnInputsRangeAreReportedUnderMinmaxOnly() {
    Random r = new Random(4);
    Graph g = ModelRunnerTest.cnn(r);
    Tensor x = ModelRunnerTest.positive(r, 1f, 32, 3, 8, 8);
    Calibration clean = Calibration.run(g, Map.of("x", x), RangeObserver.Method.MINMAX);
    assertEquals(List.of(), clean.notes());
    x.setFloat32(100, 1e30f);
    Calibration c = Calibration.run(g, Map.of("x", x), RangeObserver.Method.MINMAX);
    assertEquals(1, c.notes().size(), c.notes().toString());
    assertTrue(c.notes().get(0).startsWith("calibration data for input 'x': 1 of its 6144"
        + " values lie far outside"), c.notes().get(0));
    assertTrue(c.notes().get(0).contains("--calibration-method percentile"), c.notes().get(0));
    assertEquals(List.of(), Calibration.run(g, Map.of("x", x), RangeObserver.Method.PERCENTILE)
        .notes(), "percentile clips the outlier itself");
  }
}
