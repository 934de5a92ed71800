package dev.systole.tests.onnx;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.driver.Devices;
import dev.systole.driver.Ticker;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.Node;
import dev.systole.host.graph.ValueInfo;
import dev.systole.host.quantize.Calibration;
import dev.systole.host.run.Model;
import dev.systole.host.run.ModelRunner;
import dev.systole.host.partition.Plan;
import dev.systole.host.quantize.RangeObserver;
import dev.systole.host.run.Session;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;
import dev.systole.testing.LeakCheckExtension;
import dev.systole.testing.Tools;
import dev.systole.tests.onnx.BackendTestSuite.Result;
import dev.systole.tests.onnx.BackendTestSuite.Status;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The ONNX backend tests (node tests and the PyTorch-exported suites) of the ops that run on the
 * array (Conv, Gemm, MatMul, MaxPool, Add, QLinearConv, QLinearMatMul, ConvInteger,
 * MatMulInteger), through the device path: the test's model compiled by the partitioner, run on
 * the emulator, with the CPU for whatever the device does not take. Writes
 * {@code target/onnx-conformance-device.md}, a table with two columns per test: the CPU
 * engine's result, as {@link OnnxConformanceTest} gets it for every op (ONNX's tolerances), and
 * the device's, for the tests whose ops Systole all interprets.
 *
 * <p><b>What the device column means.</b> Integer ops (and MaxPool of uint8) must match exactly.
 * A float op on the device runs in int8, quantized from ranges calibrated on the test's own
 * inputs, and no int8 path can meet ONNX's relative tolerance of 1e-3; for those the device
 * column holds the int8 path to its own bound, {@link #INT8_BOUND} of the expected output's range
 * per element, and the float op's ONNX conformance is the CPU column's. A test whose device op
 * the partitioner leaves on the CPU (a grouped or 1-D convolution, Gemm with transA, a
 * broadcasting Add) is "cpu" in the device column: its result is the CPU's.
 *
 * <p>The node tests pass weights as graph inputs; a deployed model has them as initializers, and
 * the device only runs layers with constant weights, so this runner binds every input a device op
 * reads as weights, scales or zero points (any input but an activation) as an initializer.
 */
@ExtendWith(LeakCheckExtension.class)
class DeviceConformanceTest {
  private static final Path DEFAULT_ROOT = Path.of("/usr/share/libonnx-testdata/data");

  /** The ops the partitioner puts on the device. */
  static final Set<String> DEVICE_OPS = Set.of("Conv", "Gemm", "MatMul", "MaxPool", "Add",
      "QLinearConv", "QLinearMatMul", "ConvInteger", "MatMulInteger");

  /** The int8 path's bound for float outputs: this fraction of the expected output's range. */
  static final double INT8_BOUND = 0.02;

  /** The largest error, as a fraction of the output's range, seen on a float device test. */
  private double worstFloat;

  @Test
  void deviceOpsPassThroughTheDevicePath() throws IOException {
    Path root = Path.of(System.getProperty("systole.onnx.testdata", DEFAULT_ROOT.toString()));
    Tools.requireDirectory(root.resolve("node"), "libonnx-testdata");
    List<Path> dirs = new ArrayList<>();
    for (String suite : OnnxConformanceTest.SUITES) {
      if (!Files.isDirectory(root.resolve(suite))) {
        continue;
      }
      try (Stream<Path> s = Files.list(root.resolve(suite))) {
        s.filter(d -> Files.isRegularFile(d.resolve("model.onnx"))).sorted()
            .filter(DeviceConformanceTest::usesDeviceOps).forEach(dirs::add);
      }
    }
    BackendTestSuite cpu = new BackendTestSuite(OnnxConformanceTest::runOnCpu,
        OnnxConformanceTest::loadOnCpu, OnnxConformanceTest.EXCLUDED,
        OnnxConformanceTest.ATOL);
    Map<String, String> where = new HashMap<>();
    try (Session session = Session.owning(Devices.open("emulator", Ticker.system(), s -> { }))) {
      // The device path runs the tests of the ops Systole interprets: it rebuilds each graph to
      // bind weights as initializers, from what Systole interprets of its nodes.
      BackendTestSuite device = new BackendTestSuite((g, in) -> runOnDevice(session, g, in,
          where), OnnxConformanceTest.EXCLUDED, this::withinInt8Bound,
          BackendTestSuite.Scope.CLAIMED_OPS, OnnxConformanceTest::loadOnCpu);
      List<String[]> rows = new ArrayList<>();
      Map<String, Integer> counts = new HashMap<>();
      List<String> failures = new ArrayList<>();
      for (Path dir : dirs) {
        String name = dir.getParent().getFileName() + "/" + dir.getFileName();
        where.remove("placement");
        Result c = cpu.run(name, dir);
        Result d = device.run(name, dir);
        String placement = where.getOrDefault("placement", "");
        String deviceColumn = d.status() == Status.PASS && placement.startsWith("cpu") ? "cpu"
            : label(d.status());
        counts.merge("cpu " + label(c.status()), 1, Integer::sum);
        counts.merge("device " + deviceColumn, 1, Integer::sum);
        if (d.status() == Status.FAIL) {
          failures.add(name + ": " + d.detail());
        }
        rows.add(new String[] {name, label(c.status()), deviceColumn,
            placement + (d.detail().isEmpty() ? "" : "; " + d.detail())});
      }
      StringBuilder table = new StringBuilder("# ONNX backend node tests of the device ops\n\n");
      table.append(String.format(Locale.ROOT, "%d tests. CPU engine (ONNX tolerances): %d"
          + " pass, %d fail, %d excluded, %d not supported. Device path: %d pass on the device"
          + " (integer ops exact, float ops within %.0f %% of the output range in int8), %d run"
          + " on the cpu,"
          + " %d fail, %d not supported. Largest float error on the device: %.2f %% of the"
          + " output range.%n%n", rows.size(), counts.getOrDefault("cpu pass", 0),
          counts.getOrDefault("cpu fail", 0), counts.getOrDefault("cpu excluded", 0),
          counts.getOrDefault("cpu not supported", 0),
          counts.getOrDefault("device pass", 0), INT8_BOUND * 100,
          counts.getOrDefault("device cpu", 0), counts.getOrDefault("device fail", 0),
          counts.getOrDefault("device not supported", 0), worstFloat * 100));
      table.append("| test | cpu | device | where the device ops ran; detail |\n")
          .append("|---|---|---|---|\n");
      for (String[] r : rows) {
        table.append("| ").append(String.join(" | ", r[0], r[1], r[2],
            r[3].replace("|", "\\|").replace("\n", " "))).append(" |\n");
      }
      Path report = Path.of("target", "onnx-conformance-device.md");
      Files.createDirectories(report.getParent());
      Files.writeString(report, table);
      System.out.println("ONNX conformance, device path: " + table.substring(
          table.indexOf("\n\n") + 2, table.indexOf("\n\n|")) + " Table in "
          + report.toAbsolutePath());
      assertTrue(failures.isEmpty(), failures.size() + " device-path tests failed:\n"
          + String.join("\n", failures));
      assertTrue(counts.getOrDefault("device pass", 0) >= 30, "at least 30 node tests run"
          + " their device ops on the device; " + counts);
    }
  }

  private static String label(Status s) {
    return s.name().toLowerCase(Locale.ROOT).replace('_', ' ');
  }

  private static boolean usesDeviceOps(Path dir) {
    try {
      List<String> ops = BackendTestSuite.modelInfo(Files.readAllBytes(dir.resolve("model.onnx")))
          .opTypes();
      return ops.stream().anyMatch(DEVICE_OPS::contains);
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * Binds weights as initializers, calibrates on the inputs, runs on the device; records in
   * {@code where} whether any device op ran on the device.
   */
  private static Map<String, Tensor> runOnDevice(Session session, Graph graph,
      Map<String, Tensor> inputs, Map<String, String> where) {
    Set<String> activations = new HashSet<>();
    for (Node n : graph.nodes()) {
      if (DEVICE_OPS.contains(n.opType())) {
        activations.add(n.input(0));
        if (n.opType().equals("Add")) {
          activations.add(n.input(1));
        }
      } else {
        n.inputs().forEach(activations::add);
      }
    }
    Graph.Builder b = Graph.builder().name(graph.name()).opset(graph.opset());
    Map<String, Tensor> runInputs = new HashMap<>();
    for (ValueInfo in : graph.inputs()) {
      if (activations.contains(in.name())) {
        b.input(in);
        runInputs.put(in.name(), inputs.get(in.name()));
      } else {
        b.initializer(in.name(), inputs.get(in.name()));
      }
    }
    graph.initializers().forEach(b::initializer);
    graph.outputs().forEach(b::output);
    for (Node n : graph.nodes()) {
      b.node(n.opType(), n.name(), n.inputs(), n.outputs(), n.attributes());
    }
    Graph bound = b.build();
    Calibration cal = Calibration.none();
    String calibrated = "";
    if (Model.needsCalibration(bound)) {
      if (runInputs.values().stream().anyMatch(DeviceConformanceTest::oneValue)) {
        // Calibration refuses data that is one value throughout; such a test's input is
        // calibrated with half its elements made zeros, a value minmax covers anyway.
        Map<String, Tensor> withZeros = new HashMap<>();
        runInputs.forEach((k, t) -> withZeros.put(k, halfZeros(t)));
        cal = Calibration.run(bound, withZeros, RangeObserver.Method.MINMAX);
        calibrated = "; calibrated with half the input zeros (it is one value throughout)";
      } else {
        cal = Calibration.run(bound, runInputs, RangeObserver.Method.MINMAX);
      }
    }
    Model model = Model.of(bound, cal);
    Plan plan = model.plan(runInputs, session.device().info().params());
    boolean onDevice = model.graph().nodes().stream().anyMatch(n -> DEVICE_OPS.contains(n.opType())
        && plan.placement(n).where() == Plan.Where.DEVICE);
    List<String> cpuOps = model.graph().nodes().stream().filter(n -> DEVICE_OPS.contains(n.opType())
        && plan.placement(n).where() == Plan.Where.CPU).map(n -> n.opType() + " on the cpu: "
        + plan.placement(n).reason()).toList();
    where.put("placement", (onDevice ? "device" : "cpu") + (cpuOps.isEmpty() ? ""
        : "; " + String.join("; ", cpuOps)) + calibrated);
    try (ModelRunner runner = ModelRunner.on(session, model)) {
      return runner.run(runInputs).outputs();
    }
  }

  /** Whether float tensor {@code t} has more than one element, all equal. */
  private static boolean oneValue(Tensor t) {
    if (t.dtype() != DType.FLOAT32 || t.numel() < 2) {
      return false;
    }
    float first = t.getFloat32(0);
    for (long i = 1; i < t.numel(); i++) {
      if (t.getFloat32(i) != first) {
        return false;
      }
    }
    return true;
  }

  /** A copy of float tensor {@code t} with its second half of elements made zeros. */
  private static Tensor halfZeros(Tensor t) {
    if (t.dtype() != DType.FLOAT32) {
      return t;
    }
    Tensor out = Tensor.allocate(t.dtype(), t.shape());
    for (long i = 0; i < t.numel() / 2; i++) {
      out.setFloat32(i, t.getFloat32(i));
    }
    return out;
  }

  /** Every element within {@link #INT8_BOUND} of the expected output's range. */
  private String withinInt8Bound(String test, double[] got, double[] expected) {
    double lo = Double.POSITIVE_INFINITY;
    double hi = Double.NEGATIVE_INFINITY;
    for (double e : expected) {
      lo = Math.min(lo, e);
      hi = Math.max(hi, e);
    }
    double range = Math.max(hi - lo, Math.max(Math.abs(hi), Math.abs(lo)));
    double worst = 0;
    int at = 0;
    for (int i = 0; i < got.length; i++) {
      double err = Math.abs(got[i] - expected[i]);
      if (!(err <= worst)) {
        worst = err;
        at = i;
      }
    }
    double rel = range == 0 ? worst : worst / range;
    worstFloat = Math.max(worstFloat, rel);
    return rel <= INT8_BOUND ? null : String.format(Locale.ROOT, "element %d is %s, expected"
        + " %s: %.2f %% of the output range (int8 bound %.0f %%)", at, got[at], expected[at],
        rel * 100, INT8_BOUND * 100);
  }
}
