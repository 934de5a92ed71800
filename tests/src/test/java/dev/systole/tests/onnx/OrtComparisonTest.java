package dev.systole.tests.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.driver.Devices;
import dev.systole.driver.Ticker;
import dev.systole.host.graph.Attribute;
import dev.systole.host.graph.Graph;
import dev.systole.host.quantize.Calibration;
import dev.systole.host.run.Model;
import dev.systole.host.run.ModelRunner;
import dev.systole.host.partition.Plan;
import dev.systole.host.importer.Onnx;
import dev.systole.host.quantize.RangeObserver;
import dev.systole.host.run.Session;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;
import dev.systole.testing.LeakCheckExtension;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The int8 device path against ONNX Runtime's float32 on small models built here at random:
 * MatMul, Gemm, Conv, residual Add, MaxPool and AveragePool chains with odd channel counts, each
 * quantized from its own calibration batch and run on the emulator with the CPU for the rest.
 * Float models are held to {@link #BOUND} of the output's range and to top-1 agreement on most
 * rows; integer-only models (QLinearConv, QLinearMatMul, ConvInteger, MatMulInteger) must match
 * ONNX Runtime exactly.
 */
@ExtendWith(LeakCheckExtension.class)
class OrtComparisonTest {
  /** The largest error of a float model's output, as a fraction of ONNX Runtime's range. */
  static final double BOUND = 0.05;

  private static Session session;
  private static final List<String> figures = new ArrayList<>();

  @BeforeAll
  static void open() {
    OrtReference.environment();
    session = Session.owning(Devices.open("emulator", Ticker.system(), s -> { }));
  }

  @AfterAll
  static void close() {
    session.close();
    figures.forEach(System.out::println);
  }

  static Tensor gaussian(Random r, double scale, long... shape) {
    Tensor t = Tensor.allocate(DType.FLOAT32, shape);
    for (int i = 0; i < t.numel(); i++) {
      t.setFloat32(i, (float) (r.nextGaussian() * scale));
    }
    return t;
  }

  static Tensor uniform(Random r, long... shape) {
    Tensor t = Tensor.allocate(DType.FLOAT32, shape);
    for (int i = 0; i < t.numel(); i++) {
      t.setFloat32(i, r.nextFloat());
    }
    return t;
  }

  private static int odd(Random r, int from, int to) {
    return (from + r.nextInt(to - from)) | 1;
  }

  /**
   * conv (pad 1) + relu, max pool 3x3 stride 2 pad 1, 1x1 conv + relu, a 3x3 conv with an
   * identity skip (residual Add + relu), average pool 2x2 (cpu), conv stride 2, flatten, Gemm.
   */
  static Graph cnn(Random r, int c0, int hw) {
    int c1 = odd(r, 3, 20);
    int c2 = odd(r, 3, 20);
    int classes = odd(r, 5, 12);
    Graph.Builder b = Graph.builder().name("cnn").opset(13)
        .input("x", DType.FLOAT32, "N", c0, hw, hw).output("y");
    b.initializer("w1", gaussian(r, 1 / Math.sqrt(9.0 * c0), c1, c0, 3, 3))
        .initializer("b1", gaussian(r, 0.1, c1))
        .initializer("w2", gaussian(r, 1 / Math.sqrt(c1), c2, c1, 1, 1))
        .initializer("w3", gaussian(r, 1 / Math.sqrt(9.0 * c2), c2, c2, 3, 3))
        .initializer("w4", gaussian(r, 1 / Math.sqrt(9.0 * c2), c1, c2, 3, 3));
    b.node("Conv", "conv1", List.of("x", "w1", "b1"), List.of("a1"),
        Map.of("pads", Attribute.ofInts(1, 1, 1, 1)));
    b.node("Relu", "relu1", List.of("a1"), List.of("r1"), Map.of());
    b.node("MaxPool", "pool1", List.of("r1"), List.of("p1"), Map.of("kernel_shape",
        Attribute.ofInts(3, 3), "strides", Attribute.ofInts(2, 2), "pads",
        Attribute.ofInts(1, 1, 1, 1)));
    b.node("Conv", "conv2", List.of("p1", "w2"), List.of("a2"), Map.of());
    b.node("Relu", "relu2", List.of("a2"), List.of("r2"), Map.of());
    b.node("Conv", "conv3", List.of("r2", "w3"), List.of("a3"),
        Map.of("auto_pad", Attribute.of("SAME_UPPER")));
    b.node("Add", "add", List.of("a3", "r2"), List.of("s3"), Map.of());
    b.node("Relu", "relu3", List.of("s3"), List.of("r3"), Map.of());
    b.node("AveragePool", "avg", List.of("r3"), List.of("v"), Map.of("kernel_shape",
        Attribute.ofInts(2, 2), "strides", Attribute.ofInts(2, 2)));
    b.node("Conv", "conv4", List.of("v", "w4"), List.of("a4"), Map.of("strides",
        Attribute.ofInts(2, 2), "pads", Attribute.ofInts(1, 1, 1, 1)));
    b.node("Flatten", "flat", List.of("a4"), List.of("f"), Map.of());
    int side = ((hw + 1) / 2 / 2 + 1) / 2;
    int features = c1 * side * side;
    b.initializer("fc", gaussian(r, 1 / Math.sqrt(features), features, classes))
        .initializer("fcb", gaussian(r, 0.1, classes));
    b.node("Gemm", "fc", List.of("f", "fc", "fcb"), List.of("y"), Map.of("alpha",
        Attribute.of(0.5f), "beta", Attribute.of(2f)));
    return b.build();
  }

  /** MatMul + Gemm(transB) + relu, a residual MatMul, to {@code classes} columns. */
  static Graph mlp(Random r, int in) {
    int hidden = odd(r, 17, 70);
    int classes = odd(r, 3, 15);
    Graph.Builder b = Graph.builder().name("mlp").opset(13).input("x", DType.FLOAT32, "N", in)
        .output("y");
    b.initializer("w1", gaussian(r, 1 / Math.sqrt(in), in, hidden))
        .initializer("w2", gaussian(r, 1 / Math.sqrt(hidden), hidden, hidden))
        .initializer("b2", gaussian(r, 0.1, hidden))
        .initializer("w3", gaussian(r, 1 / Math.sqrt(hidden), classes, hidden));
    b.node("MatMul", "mm1", List.of("x", "w1"), List.of("h1"), Map.of());
    b.node("Relu", "relu1", List.of("h1"), List.of("r1"), Map.of());
    b.node("Gemm", "gemm2", List.of("r1", "w2", "b2"), List.of("h2"), Map.of());
    b.node("Add", "skip", List.of("h2", "r1"), List.of("s"), Map.of());
    b.node("Relu", "relu2", List.of("s"), List.of("r2"), Map.of());
    b.node("Gemm", "out", List.of("r2", "w3"), List.of("y"), Map.of("transB",
        Attribute.of(1L)));
    return b.build();
  }

  @Test
  void floatModelsInInt8StayCloseToOnnxRuntime() {
    Random r = new Random(11);
    for (int trial = 0; trial < 6; trial++) {
      boolean conv = trial % 2 == 0;
      int c0 = odd(r, 1, 6);
      int hw = 9 + r.nextInt(8);
      int in = odd(r, 9, 60);
      Graph g = conv ? cnn(r, c0, hw) : mlp(r, in);
      Tensor calib = conv ? uniform(r, 64, c0, hw, hw) : uniform(r, 64, in);
      Tensor x = conv ? uniform(r, 40, c0, hw, hw) : uniform(r, 40, in);
      Model model = Model.of(g, Calibration.run(g, Map.of("x", calib),
          RangeObserver.Method.MINMAX));
      Tensor want;
      try (OrtReference ort = OrtReference.load(g.name(), Onnx.write(g))) {
        want = ort.run(Map.of("x", x)).get("y");
      }
      Tensor got;
      try (ModelRunner runner = ModelRunner.on(session, model)) {
        ModelRunner.Result res = runner.run(Map.of("x", x));
        got = res.outputs().get("y");
        assertEquals(1, res.devicePrograms(), g.name() + ": " + res.devicePrograms()
            + " device programs (the average pool runs on the vector unit)");
      }
      Plan plan = model.plan(Map.of("x", x), session.device().info().params());
      assertTrue(g.nodes().stream().allMatch(n -> plan.placement(n).where() != Plan.Where.CPU),
          g.name() + ": everything on the device");
      compareFloat(g.name() + " #" + trial, got, want);
    }
  }

  private static void compareFloat(String what, Tensor got, Tensor want) {
    assertEquals(List.of(want.shape()[0], want.shape()[1]), List.of(got.shape()[0],
        got.shape()[1]), what);
    int rows = (int) want.dim(0);
    int cols = (int) want.dim(1);
    float lo = Float.MAX_VALUE;
    float hi = -Float.MAX_VALUE;
    for (int i = 0; i < want.numel(); i++) {
      lo = Math.min(lo, want.getFloat32(i));
      hi = Math.max(hi, want.getFloat32(i));
    }
    double worst = 0;
    int agree = 0;
    for (int i = 0; i < rows; i++) {
      int tg = 0;
      int tw = 0;
      for (int j = 0; j < cols; j++) {
        int k = i * cols + j;
        worst = Math.max(worst, Math.abs(got.getFloat32(k) - want.getFloat32(k)));
        tg = got.getFloat32(k) > got.getFloat32(i * cols + tg) ? j : tg;
        tw = want.getFloat32(k) > want.getFloat32(i * cols + tw) ? j : tw;
      }
      agree += tg == tw ? 1 : 0;
    }
    double rel = worst / (hi - lo);
    figures.add(String.format(Locale.ROOT, "ORT vs int8, %s: largest error %.2f %% of the output"
        + " range, top-1 agreement %d of %d", what, rel * 100, agree, rows));
    assertTrue(rel <= BOUND, String.format(Locale.ROOT, "%s: error %.2f %% of the output range"
        + " (bound %.0f %%)", what, rel * 100, BOUND * 100));
    assertTrue(agree >= 0.9 * rows, what + ": top-1 agrees on " + agree + " of " + rows);
  }

  /**
   * Weights from -64 to 63. ONNX Runtime's x86 kernels for uint8 activations and int8 weights
   * add pairs of products in 16 bits with saturation (VPMADDUBSW) unless the CPU has VNNI, so with
   * weights over the full int8 range its results are off, which is why its own quantizer reduces
   * weights to 7 bits on such CPUs; with 7-bit weights it is exact, and a fair reference.
   */
  private static Tensor weights(Random r, long... shape) {
    byte[] b = new byte[(int) java.util.Arrays.stream(shape).reduce(1, (p, q) -> p * q)];
    r.nextBytes(b);
    for (int i = 0; i < b.length; i++) {
      b[i] = (byte) (b[i] >> 1);
    }
    return Tensor.ofInt8(b, shape);
  }

  /** uint8 weights with zero point 128 (ONNX Runtime's ConvInteger takes only uint8). */
  private static Tensor offset128(Tensor int8) {
    Tensor u = Tensor.allocate(DType.UINT8, int8.shape());
    for (int i = 0; i < u.numel(); i++) {
      u.setUint8(i, int8.getInt8(i) + 128);
    }
    return u;
  }

  private static Tensor uint8(Random r, long... shape) {
    byte[] b = new byte[(int) java.util.Arrays.stream(shape).reduce(1, (p, q) -> p * q)];
    r.nextBytes(b);
    return Tensor.ofUint8(b, shape);
  }

  private static Tensor scales(Random r, int n, float base) {
    float[] s = new float[n];
    for (int i = 0; i < n; i++) {
      s[i] = base * (0.5f + r.nextFloat());
    }
    return Tensor.ofFloat32(s, n);
  }

  private static Tensor scalarU8(int v) {
    return Tensor.ofUint8(new byte[] {(byte) v});
  }

  private static Tensor scalarF(float v) {
    return Tensor.ofFloat32(new float[] {v});
  }

  /**
   * QLinearConv (per-channel int8 weights) -> MaxPool (uint8) -> QLinearConv -> flatten ->
   * QLinearMatMul, all uint8 activations.
   */
  static Graph qlinear(Random r, int c0, int hw) {
    int c1 = odd(r, 3, 20);
    int c2 = odd(r, 3, 20);
    int n = odd(r, 3, 15);
    int side = hw / 2 - 2;
    int features = c2 * side * side;
    int[] bias = new int[c1];
    for (int i = 0; i < c1; i++) {
      bias[i] = r.nextInt(4001) - 2000;
    }
    Graph.Builder b = Graph.builder().name("qlinear").opset(13)
        .input("x", DType.UINT8, "N", c0, hw, hw).output("y");
    b.initializer("xs", scalarF(0.02f)).initializer("xz", scalarU8(128 + r.nextInt(20)))
        .initializer("w1", weights(r, c1, c0, 3, 3)).initializer("w1s", scales(r, c1, 0.004f))
        .initializer("w1z", Tensor.ofInt8(new byte[c1], c1))
        .initializer("s1", scalarF(0.15f)).initializer("z1", scalarU8(100 + r.nextInt(40)))
        .initializer("b1", Tensor.ofInt32(bias, c1))
        .initializer("w2", weights(r, c2, c1, 3, 3)).initializer("w2s", scalarF(0.003f))
        .initializer("w2z", Tensor.ofInt8(new byte[1]))
        .initializer("s2", scalarF(0.3f)).initializer("z2", scalarU8(120))
        .initializer("w3", weights(r, features, n)).initializer("w3s", scalarF(0.002f))
        .initializer("w3z", Tensor.ofInt8(new byte[1]))
        .initializer("s3", scalarF(0.5f)).initializer("z3", scalarU8(128))
        .initializer("shape", Tensor.ofInt64(new long[] {-1, features}, 2));
    b.node("QLinearConv", "qconv1", List.of("x", "xs", "xz", "w1", "w1s", "w1z", "s1", "z1",
        "b1"), List.of("q1"), Map.of("pads", Attribute.ofInts(1, 1, 1, 1)));
    b.node("MaxPool", "pool", List.of("q1"), List.of("p1"), Map.of("kernel_shape",
        Attribute.ofInts(2, 2), "strides", Attribute.ofInts(2, 2)));
    b.node("QLinearConv", "qconv2", List.of("p1", "s1", "z1", "w2", "w2s", "w2z", "s2", "z2"),
        List.of("q2"), Map.of());
    b.node("Reshape", "flat", List.of("q2", "shape"), List.of("f"), Map.of());
    b.node("QLinearMatMul", "qmm", List.of("f", "s2", "z2", "w3", "w3s", "w3z", "s3", "z3"),
        List.of("y"), Map.of());
    return b.build();
  }

  /** ConvInteger and MatMulInteger side by side, each a graph output (int32). */
  static Graph integer(Random r, int c0, int hw, int k) {
    int c1 = odd(r, 3, 20);
    int n = odd(r, 3, 30);
    return Graph.builder().name("integer").opset(13)
        .input("x", DType.UINT8, "N", c0, hw, hw).input("a", DType.UINT8, "M", k)
        .output("y").output("z")
        .initializer("w", offset128(weights(r, c1, c0, 3, 3))).initializer("wz", scalarU8(128))
        .initializer("xz", scalarU8(r.nextInt(256)))
        .initializer("b", weights(r, k, n)).initializer("az", scalarU8(r.nextInt(256)))
        .node("ConvInteger", "cint", List.of("x", "w", "xz", "wz"), List.of("y"),
            Map.of("strides", Attribute.ofInts(2, 1), "pads", Attribute.ofInts(0, 1, 2, 1)))
        .node("MatMulInteger", "mmint", List.of("a", "b", "az"), List.of("z"), Map.of())
        .build();
  }

  private static String differences(Tensor got, Tensor want) {
    int n = 0;
    long worst = 0;
    for (int i = 0; i < want.numel(); i++) {
      long g = got.dtype() == DType.INT32 ? got.getInt32(i) : got.getUint8(i);
      long w = want.dtype() == DType.INT32 ? want.getInt32(i) : want.getUint8(i);
      if (g != w) {
        n++;
        worst = Math.max(worst, Math.abs(g - w));
      }
    }
    return n + " of " + want.numel() + " elements differ, by up to " + worst;
  }

  /**
   * A QDQ model (DequantizeLinear of the int8 input and weights, float Conv or MatMul,
   * QuantizeLinear) as ONNX Runtime's quantizer writes it, with its float bias.
   */
  static Graph qdq(Random r, int c0, int hw) {
    int c1 = odd(r, 3, 20);
    int side = hw - 2;
    int n = odd(r, 3, 15);
    return Graph.builder().name("qdq").opset(13).input("x", DType.UINT8, "N", c0, hw, hw)
        .output("y")
        .initializer("xs", scalarF(0.02f)).initializer("xz", scalarU8(128 + r.nextInt(20)))
        .initializer("w", weights(r, c1, c0, 3, 3)).initializer("ws", scales(r, c1, 0.004f))
        .initializer("wz", Tensor.ofInt8(new byte[c1], c1))
        .initializer("b", gaussian(r, 0.5, c1))
        .initializer("s1", scalarF(0.15f)).initializer("z1", scalarU8(100 + r.nextInt(40)))
        .initializer("m", weights(r, side, n)).initializer("ms", scalarF(0.003f))
        .initializer("mz", Tensor.ofInt8(new byte[1]))
        .initializer("s2", scalarF(0.2f)).initializer("z2", scalarU8(128))
        .node("DequantizeLinear", "dqx", List.of("x", "xs", "xz"), List.of("xf"), Map.of())
        .node("DequantizeLinear", "dqw", List.of("w", "ws", "wz"), List.of("wf"),
            Map.of("axis", Attribute.of(0L)))
        .node("Conv", "conv", List.of("xf", "wf", "b"), List.of("c"), Map.of())
        .node("QuantizeLinear", "qc", List.of("c", "s1", "z1"), List.of("cq"), Map.of())
        .node("DequantizeLinear", "dqc", List.of("cq", "s1", "z1"), List.of("cf"), Map.of())
        .node("DequantizeLinear", "dqm", List.of("m", "ms", "mz"), List.of("mf"), Map.of())
        .node("MatMul", "mm", List.of("cf", "mf"), List.of("mmf"), Map.of())
        .node("QuantizeLinear", "qm", List.of("mmf", "s2", "z2"), List.of("y"), Map.of())
        .build();
  }

  @Test
  void qdqModelsRunAsTheirQLinearOpsOnTheDevice() {
    Random r = new Random(13);
    for (int trial = 0; trial < 3; trial++) {
      int c0 = odd(r, 1, 8);
      int hw = 7 + r.nextInt(6);
      Graph g = qdq(r, c0, hw);
      Map<String, Tensor> in = Map.of("x", uint8(r, 4, c0, hw, hw));
      Model model = Model.of(g, Calibration.none());
      assertTrue(!Model.needsCalibration(g), "a QDQ model needs no calibration");
      List<String> ops = model.graph().nodes().stream().map(n -> n.opType()).toList();
      assertEquals(List.of("QLinearConv", "QLinearMatMul"), ops, "the QDQ patterns fused");
      Plan plan = model.plan(in, session.device().info().params());
      assertTrue(model.graph().nodes().stream().allMatch(n -> plan.placement(n).where()
          == Plan.Where.DEVICE), "both on the device");
      Tensor want;
      try (OrtReference ort = OrtReference.load(g.name(), Onnx.write(model.graph()))) {
        want = ort.run(in).get("y");
      }
      Tensor qdq;
      try (OrtReference ort = OrtReference.load(g.name(), Onnx.write(g))) {
        qdq = ort.run(in).get("y");
      }
      try (ModelRunner runner = ModelRunner.on(session, model)) {
        Tensor got = runner.run(in).outputs().get("y");
        assertEquals(want, got, "qdq #" + trial + ": the device and ONNX Runtime's QLinear ops,"
            + " exactly: " + differences(got, want));
        int off = 0;
        for (int i = 0; i < got.numel(); i++) {
          int d = Math.abs(got.getUint8(i) - qdq.getUint8(i));
          assertTrue(d <= 2, "element " + i + " is " + got.getUint8(i) + ", ONNX Runtime's"
              + " float QDQ gives " + qdq.getUint8(i));
          off += d == 0 ? 0 : 1;
        }
        figures.add("ORT vs device, qdq #" + trial + ": identical to the QLinear form; " + off
            + " of " + got.numel() + " elements off by 1-2 from ONNX Runtime's float QDQ");
      }
    }
  }

  @Test
  void integerModelsMatchOnnxRuntimeExactly() {
    Random r = new Random(12);
    for (int trial = 0; trial < 4; trial++) {
      int c0 = odd(r, 1, 8);
      int hw = 8 + r.nextInt(6);
      int k = odd(r, 5, 80);
      Graph g = trial % 2 == 0 ? qlinear(r, c0, hw) : integer(r, c0, hw, k);
      Map<String, Tensor> in = trial % 2 == 0 ? Map.of("x", uint8(r, 5, c0, hw, hw))
          : Map.of("x", uint8(r, 3, c0, hw, hw), "a", uint8(r, 7, k));
      Model model = Model.of(g, Calibration.none());
      Plan plan = model.plan(in, session.device().info().params());
      for (var n : g.nodes()) {
        assertTrue(n.opType().equals("Reshape") || plan.placement(n).where() != Plan.Where.CPU,
            g.name() + ": " + n + " on the cpu: " + plan.placement(n).reason());
      }
      Map<String, Tensor> want;
      try (OrtReference ort = OrtReference.load(g.name(), Onnx.write(g))) {
        want = ort.run(in);
      }
      try (ModelRunner runner = ModelRunner.on(session, model)) {
        Map<String, Tensor> got = runner.run(in).outputs();
        for (String out : want.keySet()) {
          assertEquals(want.get(out), got.get(out), g.name() + " #" + trial + " output "
              + out + ": " + differences(got.get(out), want.get(out)));
        }
        figures.add("ORT vs device, " + g.name() + " #" + trial + ": " + want.keySet()
            + " identical");
      }
    }
  }
}
