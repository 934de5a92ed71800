package dev.systole.tests.rtl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.host.cli.diag.Json;
import dev.systole.host.cpu.GraphProbe;
import dev.systole.host.graph.Graph;
import dev.systole.host.importer.Onnx;
import dev.systole.host.quantize.Calibration;
import dev.systole.host.quantize.RangeObserver;
import dev.systole.host.run.Model;
import dev.systole.host.run.ModelRunner;
import dev.systole.host.run.Session;
import dev.systole.host.tensor.Npy;
import dev.systole.host.tensor.Tensor;
import dev.systole.testing.Tools;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Models of the zoo that use the VECTOR unit (mobilenet_v2: depthwise convolutions with VMAC,
 * residual adds, average pooling with VREDUCE; the transformer encoder: softmax, layer norm,
 * GELU by table, activation-by-activation MatMuls through VTRANS) run as {@code systole run}
 * runs them, on the RTL sim board and on the emulator of the same build: the same output bytes,
 * the same device cycles, and each layer's measured cycles on the RTL equal to the emulator's.
 * The zoo is the one ZooTest uses ({@code -Dsystole.zoo=DIR}, else where scripts/make-zoo writes
 * it; required in CI).
 */
class RtlZooTest {
  private static Path zoo;
  private static List<Map<String, Object>> models;

  @BeforeAll
  static void needVerilatorAndTheZoo() throws Exception {
    Tools.require("verilator", "verilator");
    String prop = System.getProperty("systole.zoo");
    zoo = prop != null ? Path.of(prop)
        : Path.of(System.getProperty("user.home"), ".cache", "systole", "zoo");
    Path file = zoo.resolve("manifest.json");
    Tools.requireGenerated(file, "scripts/make-zoo");
    @SuppressWarnings("unchecked")
    Map<String, Object> m = (Map<String, Object>) Json.read(Files.readString(file));
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> list = (List<Map<String, Object>>) m.get("models");
    models = list;
  }

  @ParameterizedTest
  @ValueSource(strings = {"mobilenet_v2", "transformer_encoder"})
  void aZooModelGivesTheEmulatorsBytesAndLayerCyclesOnTheRtl(String name) throws Exception {
    Map<String, Object> entry = null;
    for (Map<String, Object> m : models) {
      if (name.equals(m.get("name"))) {
        entry = m;
      }
    }
    assertTrue(entry != null, name + " is not in " + zoo.resolve("manifest.json"));
    Graph graph = GraphProbe.typed(Onnx.read(zoo.resolve((String) entry.get("file"))));
    Map<String, Tensor> in = new LinkedHashMap<>();
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> inputs = (List<Map<String, Object>>) entry.get("inputs");
    for (Map<String, Object> i : inputs) {
      in.put((String) i.get("name"), Npy.read(zoo.resolve((String) i.get("npy"))));
    }
    // Calibrated on the whole sample batch, run on its first sample: the RTL takes a few seconds
    // per million cycles, and a profiled run runs every layer twice.
    Model model = Model.of(graph, Calibration.run(graph, in, RangeObserver.Method.MINMAX));
    in.replaceAll((k, t) -> first(t));
    ModelRunner.Result want;
    ModelRunner.Result got;
    try (Session emu = Session.open(RtlGemmTest.SAME_BUILD, line -> { });
        ModelRunner r = ModelRunner.on(emu, model)) {
      want = r.profile(in);
    }
    try (Session rtl = Session.open("sim", line -> { });
        ModelRunner r = ModelRunner.on(rtl, model)) {
      got = r.profile(in);
    }
    assertEquals(want.outputs().keySet(), got.outputs().keySet(), name + ": outputs");
    for (String out : want.outputs().keySet()) {
      assertEquals(want.outputs().get(out), got.outputs().get(out), name + ": output " + out);
    }
    assertEquals(want.devicePrograms(), got.devicePrograms(), name + ": device programs");
    assertEquals(want.deviceCycles(), got.deviceCycles(), name + ": device cycles");
    assertEquals(want.layers().size(), got.layers().size(), name + ": layers");
    for (int i = 0; i < got.layers().size(); i++) {
      ModelRunner.LayerProfile w = want.layers().get(i);
      ModelRunner.LayerProfile g = got.layers().get(i);
      assertEquals(w.measured(), g.measured(), name + ": cycles of " + g.node().name());
      assertEquals(g.estimated(), g.measured(), name + ": " + g.node().name()
          + " on the RTL against the timing model");
    }
    System.out.printf(Locale.ROOT, "rtl zoo: %s, %d device programs, %,d cycles, %d layers, each as the"
        + " emulator%n", name, got.devicePrograms(), got.deviceCycles(), got.layers().size());
  }

  /** The first sample of a batch (its first index along axis 0). */
  private static Tensor first(Tensor t) {
    if (t.rank() == 0 || t.dim(0) <= 1) {
      return t;
    }
    long[] shape = new long[t.rank()];
    shape[0] = 1;
    for (int i = 1; i < shape.length; i++) {
      shape[i] = t.dim(i);
    }
    int bytes = (int) (t.byteSize() / t.dim(0));
    ByteBuffer data = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
    data.put(t.data().duplicate().limit(bytes));
    data.flip();
    return Tensor.wrap(t.dtype(), shape, data);
  }
}
