package dev.systole.host.partition;

import dev.systole.host.run.ModelRunner;
import dev.systole.host.run.Model;
import dev.systole.host.quantize.Calibration;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.driver.Devices;
import dev.systole.driver.Ticker;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.host.cpu.GraphProbe;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.ModelException;
import dev.systole.host.graph.Node;
import dev.systole.host.importer.Onnx;
import dev.systole.host.quantize.RangeObserver;
import dev.systole.host.run.Session;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;
import dev.systole.testing.LeakCheckExtension;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.nio.file.Path;
import java.nio.file.Files;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Models whose middle only the CPU engine runs, between layers the device runs: control flow
 * whose subgraphs read values of the graph around them, an op of the com.microsoft domain,
 * float16 values and a sequence. Each runs with its MatMuls on the emulator and its other
 * nodes in CPU segments (the float16 model's casts before and after them in segments of their
 * own), and agrees with the float model in ONNX Runtime within int8's error.
 * (The models are written by scripts/make-cpu-fixtures.)
 */
@ExtendWith(LeakCheckExtension.class)
class CpuSegmentsTest {
  private static Graph fixture(String name) throws IOException {
    try (InputStream in = CpuSegmentsTest.class.getResourceAsStream("/cpu/" + name)) {
      return GraphProbe.typed(Onnx.read(name, in.readAllBytes()));
    }
  }

  private static Node node(Graph g, String name) {
    return g.nodes().stream().filter(n -> n.name().equals(name)).findFirst().orElseThrow();
  }

  /**
   * Runs {@code g} on the emulator (its MatMuls in two programs, the rest in {@code segments}
   * CPU segments) and in float; returns the two outputs named {@code y}.
   */
  private static Tensor[] both(Graph g, Tensor x, int segments) {
    return both(g, x, 2, segments);
  }

  /** {@link #both(Graph, Tensor, int)} with {@code programs} device programs. */
  private static Tensor[] both(Graph g, Tensor x, int programs, int segments) {
    Model model = Model.of(g, Calibration.run(g, Map.of("x", x), RangeObserver.Method.MINMAX));
    Plan plan = model.plan(Map.of("x", x), DeviceParams.defaults());
    assertEquals(Plan.Where.DEVICE, plan.placement(node(model.graph(), "mm1")).where());
    assertEquals(Plan.Where.DEVICE, plan.placement(node(model.graph(), "mm2")).where());
    assertEquals(programs, plan.deviceProgramCount());
    assertEquals(segments, plan.cpuSegmentCount());
    Tensor want = ModelRunnerTest.reference(g, Map.of("x", x)).get("y");
    try (Session s = Session.owning(Devices.open("emulator", Ticker.system(), m -> { }));
        ModelRunner runner = ModelRunner.on(s, model)) {
      return new Tensor[] {runner.run(Map.of("x", x)).outputs().get("y"), want};
    }
  }

  private static void close(float[] got, float[] want, double share) {
    float range = 0;
    for (float w : want) {
      range = Math.max(range, Math.abs(w));
    }
    for (int i = 0; i < want.length; i++) {
      assertEquals(want[i], got[i], share * range, "element " + i);
    }
  }

  @Test
  void controlFlowReadsOuterValuesAcrossTheDeviceBoundary() throws IOException {
    Graph g = fixture("control_flow.onnx");
    Node branch = node(g, "branch");
    Node loop = node(g, "loop");
    assertFalse(branch.known());
    assertTrue(branch.implicitInputs().containsAll(List.of("a", "scale")),
        "the If's branches read a and scale: " + branch.implicitInputs());
    assertEquals(List.of("bias"), loop.implicitInputs());
    Tensor x = ModelRunnerTest.random(new Random(1), 1, 5, 8);
    Tensor[] r = both(g, x, 1);
    assertArrayEquals(new long[] {5, 4}, r[0].shape());
    close(r[0].toFloatArray(), r[1].toFloatArray(), 0.05);
  }

  @Test
  void aComMicrosoftOpRunsOnTheCpuBetweenDeviceLayers() throws IOException {
    Graph g = fixture("contrib.onnx");
    assertEquals("com.microsoft", node(g, "gelu").domain());
    assertEquals(Map.of("", 17L, "com.microsoft", 1L), g.opsetImports());
    Tensor x = ModelRunnerTest.random(new Random(2), 1, 3, 8);
    Tensor[] r = both(g, x, 1);
    close(r[0].toFloatArray(), r[1].toFloatArray(), 0.05);
  }

  @Test
  void float16AndSequencesStayOnTheCpuSide() throws IOException {
    Graph g = fixture("half_and_sequence.onnx");
    assertEquals(DType.FLOAT16, g.inputs().get(0).dtype());
    assertTrue(g.type("seq").sequence());
    float[] values = ModelRunnerTest.random(new Random(3), 1, 4, 8).toFloatArray();
    Tensor x = Tensor.ofFloat16(values, 4, 8);
    Tensor[] r = both(g, x, 3);
    assertEquals(DType.FLOAT16, r[0].dtype());
    close(r[0].float16ToFloatArray(), r[1].float16ToFloatArray(), 0.05);
  }

  /**
   * The weights and a float16 bias in a file beside the model: read from there, the bias's
   * Cast folded into a float constant and its Add into the first MatMul, so the whole model is
   * one device program.
   */
  @Test
  void tensorsKeptInAnExternalFileAreReadFromBesideTheModel() throws Exception {
    Path file = Path.of(CpuSegmentsTest.class.getResource("/cpu/external.onnx").toURI());
    Graph g = GraphProbe.typed(Onnx.read(file));
    assertEquals(List.of(6L, 4L), List.of(g.initializers().get("w2").dim(0),
        g.initializers().get("w2").dim(1)));
    assertEquals(DType.FLOAT16, g.initializers().get("bias16").dtype());
    Tensor x = ModelRunnerTest.random(new Random(4), 1, 3, 8);
    Tensor[] r = both(g, x, 1, 0);
    close(r[0].toFloatArray(), r[1].toFloatArray(), 0.05);

    ModelException fromMemory = assertThrows(ModelException.class,
        () -> Onnx.read("external.onnx", Files.readAllBytes(file)));
    assertTrue(fromMemory.getMessage().contains("keeps its data in external file"
        + " 'external_data.bin' (read the model from its file, so that the data can be found"
        + " beside it)"), fromMemory.getMessage());
  }

  @Test
  void aSparseInitializerIsTheDenseTensorItStandsFor() throws IOException {
    Graph g = fixture("sparse.onnx");
    Tensor w = g.initializers().get("w");
    float[] dense = w.toFloatArray();
    assertEquals(32, dense.length);
    assertEquals(0.5f, dense[0]);
    assertEquals(-1.0f, dense[5]);
    assertEquals(0.25f, dense[13]);
    assertEquals(2.0f, dense[22]);
    assertEquals(-0.75f, dense[31]);
    assertEquals(0f, dense[1]);
    Tensor x = ModelRunnerTest.random(new Random(5), 1, 3, 8);
    Tensor want = ModelRunnerTest.reference(g, Map.of("x", x)).get("y");
    for (int r = 0; r < 3; r++) {
      for (int c = 0; c < 4; c++) {
        float dot = 0;
        for (int k = 0; k < 8; k++) {
          dot += x.getFloat32(r * 8 + k) * dense[k * 4 + c];
        }
        assertEquals(dot, want.getFloat32(r * 4 + c), 1e-5, "ONNX Runtime reads it the same");
      }
    }
  }
}
