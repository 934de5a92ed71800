package dev.systole.host.partition;

import dev.systole.host.run.ModelRunner;
import dev.systole.host.run.Model;
import dev.systole.host.quantize.Calibration;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.driver.Devices;
import dev.systole.driver.Ticker;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.host.cpu.CpuEngine;
import dev.systole.host.cpu.CpuModel;
import dev.systole.host.graph.Attribute;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.ModelException;
import dev.systole.host.graph.Node;
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
 * Partitioning hand-built graphs, and running them on the emulator against the float model on
 * the CPU interpreter: what joins a device program, what is folded, what stays on the CPU and
 * why, how inputs are checked, and that a second run reuses the plan and the programs.
 */
@ExtendWith(LeakCheckExtension.class)
class ModelRunnerTest {
  private static final DeviceParams PARAMS = DeviceParams.defaults();

  static Tensor random(Random r, double scale, long... shape) {
    Tensor t = Tensor.allocate(DType.FLOAT32, shape);
    for (int i = 0; i < t.numel(); i++) {
      t.setFloat32(i, (float) (r.nextGaussian() * scale));
    }
    return t;
  }

  static Tensor positive(Random r, float max, long... shape) {
    Tensor t = Tensor.allocate(DType.FLOAT32, shape);
    for (int i = 0; i < t.numel(); i++) {
      t.setFloat32(i, r.nextFloat() * max);
    }
    return t;
  }

  static Map<String, Attribute> conv(int pad) {
    return Map.of("pads", Attribute.ofInts(pad, pad, pad, pad));
  }

  /**
   * conv(3 -> 5, 3x3) + BatchNormalization + Relu, MaxPool 2x2, a second conv, a residual Add
   * with Relu, Flatten, Gemm(transB) to 7 logits.
   */
  static Graph cnn(Random r) {
    Graph.Builder b = Graph.builder().name("cnn").input("x", DType.FLOAT32, "N", 3, 8, 8)
        .output("logits");
    b.initializer("w1", random(r, 0.3, 5, 3, 3, 3)).initializer("b1", random(r, 0.1, 5));
    b.initializer("gamma", positive(r, 1.5f, 5)).initializer("beta", random(r, 0.2, 5))
        .initializer("mean", random(r, 0.2, 5)).initializer("var", positive(r, 1f, 5));
    b.initializer("w2", random(r, 0.2, 5, 5, 3, 3));
    b.initializer("fc", random(r, 0.2, 7, 5 * 4 * 4)).initializer("fcb", random(r, 0.1, 7));
    b.node("Conv", "conv1", List.of("x", "w1", "b1"), List.of("c1"), conv(1));
    b.node("BatchNormalization", "bn1", List.of("c1", "gamma", "beta", "mean", "var"),
        List.of("n1"), Map.of());
    b.node("Relu", "relu1", List.of("n1"), List.of("r1"), Map.of());
    b.node("MaxPool", "pool1", List.of("r1"), List.of("p1"), Map.of("kernel_shape",
        Attribute.ofInts(2, 2), "strides", Attribute.ofInts(2, 2)));
    b.node("Conv", "conv2", List.of("p1", "w2"), List.of("c2"), Map.of("auto_pad",
        Attribute.of("SAME_UPPER")));
    b.node("Add", "add", List.of("p1", "c2"), List.of("s"), Map.of());
    b.node("Relu", "relu2", List.of("s"), List.of("r2"), Map.of());
    b.node("Flatten", "flat", List.of("r2"), List.of("f"), Map.of());
    b.node("Gemm", "fc", List.of("f", "fc", "fcb"), List.of("logits"),
        Map.of("transB", Attribute.of(1L)));
    return b.build();
  }

  private static Node node(Graph g, String name) {
    return g.nodes().stream().filter(n -> n.name().equals(name)).findFirst().orElseThrow();
  }

  @Test
  void aCnnIsOneDeviceProgramWithItsNormsAndRelusFolded() {
    Random r = new Random(1);
    Graph g = cnn(r);
    Tensor calib = positive(r, 1f, 32, 3, 8, 8);
    Model model = Model.of(g, Calibration.run(g, Map.of("x", calib),
        RangeObserver.Method.MINMAX));
    Plan plan = model.planForShapes(Map.of("x", new long[] {4, 3, 8, 8}), PARAMS);
    assertEquals(1, plan.deviceProgramCount());
    for (String n : List.of("conv1", "pool1", "conv2", "add", "fc")) {
      assertEquals(Plan.Where.DEVICE, plan.placement(node(g, n)).where(), n);
    }
    assertEquals(node(g, "conv1"), plan.placement(node(g, "bn1")).into());
    assertEquals(node(g, "conv1"), plan.placement(node(g, "relu1")).into());
    assertEquals(node(g, "add"), plan.placement(node(g, "relu2")).into());
    assertEquals(Plan.Where.FUSED, plan.placement(node(g, "flat")).where());
    assertNull(plan.placement(node(g, "flat")).into(), "a flatten is a change of view");

    CompileReport report = CompileReport.of(g, plan, PARAMS);
    assertEquals(5, report.count("device"));
    assertEquals(4, report.count("fused"));
    assertTrue(report.estimatedCycles() > 0);
    assertTrue(report.rows().stream().filter(row -> row.where().startsWith("device")
        && !row.where().contains("epilogue")).allMatch(row -> row.estimatedCycles() > 0),
        "every device layer has an estimate");
    CompileReport.Row add = report.rows().stream().filter(row -> row.node().equals("add"))
        .findFirst().orElseThrow();
    assertEquals("device #0, in the epilogue of conv2", add.where(),
        "the residual add runs in the epilogue of the convolution before it");
    assertEquals(0, add.estimatedCycles(), "its cycles are the convolution's");
  }

  @Test
  void aGraphOutputThatIsAnInitializerIsReturnedAsItIs() {
    Tensor k = Tensor.ofFloat32(new float[] {1.5f, -2f}, 2);
    Graph g = Graph.builder().input("x", DType.FLOAT32, "N", 4).output("y").output("k")
        .initializer("k", k).node("Relu", "relu", List.of("x"), List.of("y"), Map.of())
        .build();
    Tensor x = Tensor.ofFloat32(new float[] {-1, 2, -3, 4}, 1, 4);
    try (Session s = Session.owning(Devices.open("emulator", Ticker.system(), m -> { }));
        ModelRunner runner = ModelRunner.on(s, Model.of(g, Calibration.run(g, Map.of("x", x),
            RangeObserver.Method.MINMAX)))) {
      Map<String, Tensor> out = runner.run(Map.of("x", x)).outputs();
      assertEquals(List.of("y", "k"), List.copyOf(out.keySet()));
      assertEquals(k, out.get("k"));
      assertEquals(Tensor.ofFloat32(new float[] {0, 2, 0, 4}, 1, 4), out.get("y"));
    }
  }

  @Test
  void aRunnerKeepsTheProgramsOfTheLastFewBatchSizesOnly() {
    Random r = new Random(12);
    Graph g = cnn(r);
    Model model = Model.of(g, Calibration.run(g, Map.of("x", positive(r, 1f, 32, 3, 8, 8)),
        RangeObserver.Method.MINMAX));
    long lastTwo;
    try (dev.systole.driver.Device d = Devices.open("emulator", Ticker.system(), m -> { });
        Session s = Session.on(d, Session.DEFAULT_MAX_ROWS, java.time.Duration.ofSeconds(60),
            2);
        ModelRunner runner = ModelRunner.on(s, model)) {
      for (int batch = 5; batch <= 6; batch++) {
        runner.run(Map.of("x", positive(new Random(batch), 1f, batch, 3, 8, 8)));
      }
      lastTwo = s.memory().usedBytes();
    }
    try (dev.systole.driver.Device d = Devices.open("emulator", Ticker.system(), m -> { });
        Session s = Session.on(d, Session.DEFAULT_MAX_ROWS, java.time.Duration.ofSeconds(60),
            2);
        ModelRunner runner = ModelRunner.on(s, model)) {
      Map<Integer, Tensor> first = new java.util.HashMap<>();
      for (int batch = 1; batch <= 6; batch++) {
        Tensor x = positive(new Random(batch), 1f, batch, 3, 8, 8);
        first.put(batch, runner.run(Map.of("x", x)).outputs().get("logits"));
        assertTrue(runner.loadedPlans() <= 2, "batch " + batch + ": " + runner.loadedPlans());
      }
      assertEquals(2, runner.loadedPlans());
      assertEquals(2, runner.loadedPrograms());
      assertEquals(lastTwo, s.memory().usedBytes(), "the card memory of batches 5 and 6 only");
      List<ModelRunner.LoadedPlan> loaded = runner.loaded();
      assertEquals(List.of(List.of(5L, 3L, 8L, 8L), List.of(6L, 3L, 8L, 8L)),
          loaded.stream().map(l -> l.inputs().get("x")).toList(), "least recently run first");
      assertEquals(List.of(List.of(5), List.of(6)),
          loaded.stream().map(ModelRunner.LoadedPlan::batches).toList());
      assertEquals(s.memory().usedBytes(), loaded.stream()
          .mapToLong(l -> l.residentBytes() + l.programBytes()).sum(),
          "what the plans say they hold is the card memory in use");
      assertTrue(loaded.get(1).describe().startsWith("x 6x3x8x8: 1 of 1 device graph loaded"
          + " (programs for batch 6;"), loaded.get(1).describe());
      Tensor again = runner.run(Map.of("x", positive(new Random(1), 1f, 1, 3, 8, 8)))
          .outputs().get("logits");
      assertEquals(first.get(1), again, "an evicted batch size comes back with the same result");
    }
    for (int batch = 1; batch <= Model.PLAN_LIMIT + 3; batch++) {
      model.planForShapes(Map.of("x", new long[] {batch, 3, 8, 8}), PARAMS);
    }
    assertEquals(Model.PLAN_LIMIT, model.cachedPlans(), "the model keeps the last plans only");
  }

  @Test
  void theInt8CnnTracksTheFloatModel() {
    Random r = new Random(2);
    Graph g = cnn(r);
    Model model = Model.of(g, Calibration.run(g, Map.of("x", positive(r, 1f, 64, 3, 8, 8)),
        RangeObserver.Method.MINMAX));
    Tensor x = positive(r, 1f, 6, 3, 8, 8);
    Tensor want = reference(g, Map.of("x", x)).get("logits");
    try (Session s = Session.owning(Devices.open("emulator", Ticker.system(), m -> { }));
        ModelRunner runner = ModelRunner.on(s, model)) {
      ModelRunner.Result res = runner.run(Map.of("x", x));
      Tensor got = res.outputs().get("logits");
      assertEquals(DType.FLOAT32, got.dtype());
      assertEquals(List.of(6L, 7L), List.of(got.dim(0), got.dim(1)));
      float lo = Float.MAX_VALUE;
      float hi = -Float.MAX_VALUE;
      for (int i = 0; i < want.numel(); i++) {
        lo = Math.min(lo, want.getFloat32(i));
        hi = Math.max(hi, want.getFloat32(i));
      }
      for (int i = 0; i < want.numel(); i++) {
        assertEquals(want.getFloat32(i), got.getFloat32(i), 0.05 * (hi - lo), "logit " + i);
      }
      assertEquals(1, res.devicePrograms());
      assertTrue(res.deviceCycles() > 0 && res.usefulMacs() > 0);
      assertTrue(res.cpu().isEmpty(), "nothing of this model runs on the cpu");

      int regions = s.memory().regions().size();
      ModelRunner.Result again = runner.run(Map.of("x", x));
      assertEquals(got, again.outputs().get("logits"), "the same bytes on a second run");
      assertEquals(1, model.cachedPlans(), "the plan is reused");
      assertEquals(1, runner.loadedPrograms(), "the program is reused");
      assertEquals(regions, s.memory().regions().size(), "a second run allocates nothing");
    }
  }

  @Test
  void aCpuNodeReadingTheProgramSplitsItAndOneThatDoesNotRunsBeforeIt() {
    Random r = new Random(3);
    Graph.Builder b = Graph.builder().input("x", DType.FLOAT32, "N", 4, 6, 6)
        .input("y", DType.FLOAT32, "N", 4, 6, 6).output("out").output("side");
    b.initializer("w1", random(r, 0.3, 4, 4, 3, 3)).initializer("w2", random(r, 0.3, 4, 4, 1, 1))
        .initializer("w3", random(r, 0.3, 4, 4, 1, 1));
    b.node("Conv", "c1", List.of("x", "w1"), List.of("a"), conv(1));
    b.node("Hardmax", "side", List.of("y"), List.of("side"), Map.of());
    b.node("Conv", "c2", List.of("a", "w2"), List.of("b2"), Map.of());
    b.node("Hardmax", "sig", List.of("b2"), List.of("s"), Map.of());
    b.node("Conv", "c3", List.of("s", "w3"), List.of("out"), Map.of());
    Graph g = b.build();
    Map<String, Tensor> in = Map.of("x", positive(r, 1f, 2, 4, 6, 6), "y",
        random(r, 1, 2, 4, 6, 6));
    Model model = Model.of(g, Calibration.run(g, in, RangeObserver.Method.MINMAX));
    Plan plan = model.plan(in, PARAMS);
    assertEquals(2, plan.deviceProgramCount(), "c1+c2, then c3 after the Hardmax");
    Graph m = model.graph();
    assertEquals(0, plan.placement(node(m, "c2")).segment());
    assertEquals(1, plan.placement(node(m, "c3")).segment());
    assertEquals(Plan.Where.CPU, plan.placement(node(m, "side")).where());
    assertNull(plan.placement(node(m, "sig")).reason(), "Hardmax never runs on the device");
  }

  @Test
  void depthwiseConvolutionNeedsTheVectorUnitAndSaysSoWithoutIt() {
    Random r = new Random(4);
    Graph g = Graph.builder().input("x", DType.FLOAT32, 1, 6, 5, 5).output("y")
        .initializer("w", random(r, 0.3, 6, 1, 3, 3))
        .node("Conv", "dw", List.of("x", "w"), List.of("y"), Map.of("group", Attribute.of(6L)))
        .build();
    Model model = Model.of(g, Calibration.placeholder(g));
    Map<String, long[]> shape = Map.of("x", new long[] {1, 6, 5, 5});
    Plan plan = model.planForShapes(shape, PARAMS);
    assertEquals(Plan.Where.DEVICE, plan.placement(g.nodes().get(0)).where());
    assertEquals(1, plan.deviceProgramCount());
    Plan without = model.planForShapes(shape, PARAMS.with("VECTOR_UNIT=0"));
    Plan.Placement p = without.placement(g.nodes().get(0));
    assertEquals(Plan.Where.CPU, p.where());
    assertTrue(p.reason().contains("needs the vector unit"), p.reason());
    assertEquals(0, without.deviceProgramCount());
  }

  @Test
  void wrongInputsAreNamedWithTheExpectedAndGivenShape() {
    Random r = new Random(5);
    Graph g = cnn(r);
    Model model = Model.of(g, Calibration.placeholder(g));
    try (Session s = Session.owning(Devices.open("emulator", Ticker.system(), m -> { }));
        ModelRunner runner = ModelRunner.on(s, model)) {
      String shape = assertThrows(ModelException.class, () -> runner.run(Map.of("x",
          positive(r, 1f, 2, 3, 8, 9)))).getMessage();
      assertTrue(shape.contains("input 'x' has shape 2x3x8x9, expected float32 Nx3x8x8"),
          shape);
      String dtype = assertThrows(ModelException.class, () -> runner.run(Map.of("x",
          Tensor.allocate(DType.UINT8, 2, 3, 8, 8)))).getMessage();
      assertTrue(dtype.contains("input 'x' is uint8 2x3x8x8, expected float32 Nx3x8x8"), dtype);
      String name = assertThrows(ModelException.class, () -> runner.run(Map.of("x",
          positive(r, 1f, 1, 3, 8, 8), "z", positive(r, 1f, 1)))).getMessage();
      assertTrue(name.contains("'z' is not an input of the model (its inputs: x (float32"
          + " Nx3x8x8))"), name);
      String missing = assertThrows(ModelException.class, () -> runner.run(Map.of()))
          .getMessage();
      assertTrue(missing.contains("no tensor given for input 'x' (expected float32 Nx3x8x8)"),
          missing);
      // With a plan cached for 1x3x8x8 (the shape inference is skipped for it), inputs of that
      // shape are still checked, and the cached plan runs as the first did.
      Tensor x = positive(r, 1f, 1, 3, 8, 8);
      float[] first = runner.run(Map.of("x", x)).outputs().values().iterator().next()
          .toFloatArray();
      assertEquals(1, model.cachedPlans(), "the plan for 1x3x8x8 is kept");
      String cachedType = assertThrows(ModelException.class, () -> runner.run(Map.of("x",
          Tensor.allocate(DType.UINT8, 1, 3, 8, 8)))).getMessage();
      assertTrue(cachedType.contains("input 'x' is uint8 1x3x8x8, expected float32 Nx3x8x8"),
          cachedType);
      String cachedName = assertThrows(ModelException.class, () -> runner.run(Map.of("x", x,
          "z", positive(r, 1f, 1)))).getMessage();
      assertTrue(cachedName.contains("'z' is not an input of the model"), cachedName);
      float[] again = runner.run(Map.of("x", x)).outputs().values().iterator().next()
          .toFloatArray();
      assertArrayEquals(first, again, "the cached plan runs as the first did");
      assertEquals(1, model.cachedPlans());
    }
  }

  @Test
  void integerLayersRunWithTheModelsOwnScalesExactly() {
    Random r = new Random(6);
    byte[] w = new byte[8 * 3 * 3 * 3];
    r.nextBytes(w);
    int[] bias = new int[8];
    for (int i = 0; i < bias.length; i++) {
      bias[i] = r.nextInt(2001) - 1000;
    }
    float[] scales = new float[8];
    for (int c = 0; c < 8; c++) {
      scales[c] = 1e-4f + r.nextFloat() * 2e-3f;
    }
    Graph g = Graph.builder().input("x", DType.UINT8, 2, 3, 7, 7).output("y")
        .initializer("xs", Tensor.ofFloat32(new float[] {0.02f}))
        .initializer("xz", Tensor.ofUint8(new byte[] {(byte) 131}))
        .initializer("w", Tensor.ofInt8(w, 8, 3, 3, 3))
        .initializer("ws", Tensor.ofFloat32(scales, 8))
        .initializer("wz", Tensor.ofInt8(new byte[8], 8))
        .initializer("ys", Tensor.ofFloat32(new float[] {0.05f}))
        .initializer("yz", Tensor.ofUint8(new byte[] {(byte) 120}))
        .initializer("b", Tensor.ofInt32(bias, 8))
        .node("QLinearConv", "qconv", List.of("x", "xs", "xz", "w", "ws", "wz", "ys", "yz", "b"),
            List.of("y"), Map.of("pads", Attribute.ofInts(1, 0, 2, 1), "strides",
                Attribute.ofInts(2, 1)))
        .build();
    byte[] xb = new byte[2 * 3 * 7 * 7];
    r.nextBytes(xb);
    Map<String, Tensor> in = Map.of("x", Tensor.ofUint8(xb, 2, 3, 7, 7));
    Model model = Model.of(g, Calibration.none());
    assertEquals(Plan.Where.DEVICE, model.plan(in, PARAMS).placement(g.nodes().get(0))
        .where());
    Tensor want = qlinearConv(in.get("x"), 0.02f, 131, w, scales, 0.05f, 120, bias,
        new int[] {1, 0, 2, 1}, new int[] {2, 1});
    try (Session s = Session.owning(Devices.open("emulator", Ticker.system(), m -> { }));
        ModelRunner runner = ModelRunner.on(s, model)) {
      Tensor got = runner.run(in).outputs().get("y");
      StringBuilder diff = new StringBuilder();
      for (int i = 0; i < want.numel(); i++) {
        if (want.getUint8(i) != got.getUint8(i)) {
          diff.append(i).append(':').append(want.getUint8(i)).append('/').append(got.getUint8(i)).append(' ');
        }
      }
      assertEquals(want, got, diff.toString());
    }
  }

  /**
   * QLinearConv by its definition, for a uint8 input and per-channel int8 weights (zero point
   * 0) with a 3x3 kernel: the integer convolution of {@code x - xz}, plus the bias, scaled by
   * {@code xs * ws[c] / ys} in float, rounded half to even, plus {@code yz}, saturated. ONNX
   * Runtime is no reference here: on processors without VNNI its u8s8 kernels may saturate
   * 16-bit partial sums.
   */
  private static Tensor qlinearConv(Tensor x, float xs, int xz, byte[] w, float[] ws, float ys,
      int yz, int[] bias, int[] pads, int[] strides) {
    int n = (int) x.dim(0);
    int c = (int) x.dim(1);
    int h = (int) x.dim(2);
    int wd = (int) x.dim(3);
    int o = ws.length;
    int oh = (h + pads[0] + pads[2] - 3) / strides[0] + 1;
    int ow = (wd + pads[1] + pads[3] - 3) / strides[1] + 1;
    Tensor y = Tensor.allocate(DType.UINT8, n, o, oh, ow);
    for (int b = 0; b < n; b++) {
      for (int oc = 0; oc < o; oc++) {
        for (int i = 0; i < oh; i++) {
          for (int j = 0; j < ow; j++) {
            long acc = bias[oc];
            for (int ic = 0; ic < c; ic++) {
              for (int ky = 0; ky < 3; ky++) {
                for (int kx = 0; kx < 3; kx++) {
                  int yy = i * strides[0] + ky - pads[0];
                  int xx = j * strides[1] + kx - pads[1];
                  if (yy >= 0 && yy < h && xx >= 0 && xx < wd) {
                    int v = x.getUint8(((long) (b * c + ic) * h + yy) * wd + xx) - xz;
                    acc += (long) v * w[((oc * c + ic) * 3 + ky) * 3 + kx];
                  }
                }
              }
            }
            float scale = xs * ws[oc] / ys;
            long q = (long) Math.rint(acc * scale) + yz;
            y.setUint8(((long) (b * o + oc) * oh + i) * ow + j,
                (int) Math.max(0, Math.min(255, q)));
          }
        }
      }
    }
    return y;
  }

  /**
   * Asserts that every element of {@code got} is within {@code fraction} of the largest
   * magnitude of {@code want} from the element of {@code want} at its index: int8's error
   * against the float model, measured on the output's range.
   */
  static void assertWithin(Tensor want, Tensor got, double fraction, String what) {
    float[] w = want.toFloatArray();
    float[] o = got.toFloatArray();
    assertEquals(w.length, o.length, what + ": elements");
    float range = 0;
    for (float v : w) {
      range = Math.max(range, Math.abs(v));
    }
    for (int i = 0; i < w.length; i++) {
      assertTrue(Math.abs(w[i] - o[i]) <= fraction * range, what + ": element " + i + ": "
          + o[i] + " vs " + w[i]);
    }
  }

  /** The model's outputs from the CPU engine, op by op as written. */
  static Map<String, Tensor> reference(Graph g, Map<String, Tensor> in) {
    try (CpuModel m = CpuModel.load(g, CpuEngine.get(), CpuEngine.Rewrites.NONE)) {
      return m.run(in);
    }
  }
}
