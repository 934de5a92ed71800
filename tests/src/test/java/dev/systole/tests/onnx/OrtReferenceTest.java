package dev.systole.tests.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;
import dev.systole.testing.Tools;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

/**
 * The ONNX Runtime reference on the element types it passes in and out, each through an op whose
 * result this test computes exactly on its own (the models are written by
 * scripts/make-ort-fixtures), on the inputs it refuses before ONNX Runtime sees them, and, in a
 * JVM of its own that cannot find the native library, on how a missing ONNX Runtime is reported.
 */
class OrtReferenceTest {
  private static final Path MODELS = Tools.root().resolve("tests/src/test/resources/ort");

  private static OrtReference model(String name) throws IOException {
    return OrtReference.load(MODELS.resolve(name + ".onnx"));
  }

  @Test
  void int8InInt32OutIsExact() throws IOException {
    int m = 5;
    int k = 37;
    int n = 3;
    Random random = new Random(6);
    byte[] a = new byte[m * k];
    byte[] b = new byte[k * n];
    random.nextBytes(a);
    random.nextBytes(b);
    a[0] = Byte.MIN_VALUE;
    b[0] = Byte.MIN_VALUE;
    Tensor y;
    try (OrtReference ort = model("matmul_integer_s8s8")) {
      assertEquals(List.of("A", "B"), ort.inputNames());
      assertArrayEquals(new long[] {-1, -1}, ort.inputShape("A"));
      Map<String, Tensor> out = ort.run(Map.of("A", Tensor.ofInt8(a, m, k),
          "B", Tensor.ofInt8(b, k, n)));
      assertEquals(List.of("Y"), List.copyOf(out.keySet()));
      y = out.get("Y");
    }
    assertEquals(DType.INT32, y.dtype());
    assertArrayEquals(new long[] {m, n}, y.shape());
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        int sum = 0;
        for (int p = 0; p < k; p++) {
          sum += a[i * k + p] * b[p * n + j];
        }
        assertEquals(sum, y.getInt32((long) i * n + j), "Y[" + i + "][" + j + "]");
      }
    }
  }

  @Test
  void uint8InFloat32OutIsExact() throws IOException {
    Tensor x = Tensor.allocate(DType.UINT8, 256);
    for (int v = 0; v < 256; v++) {
      x.setUint8(v, v);
    }
    Tensor y;
    try (OrtReference ort = model("dequantize_u8")) {
      y = ort.run(Map.of("x", x)).get("y");
    }
    assertEquals(DType.FLOAT32, y.dtype());
    assertArrayEquals(new long[] {256}, y.shape());
    for (int v = 0; v < 256; v++) {
      assertEquals((v - 10) * 0.5f, y.getFloat32(v), "y[" + v + "]");
    }
  }

  @Test
  void float32InInt8AndInt64OutRoundHalfToEvenAndSaturate() throws IOException {
    float[] values = {0f, 0.125f, 0.375f, -0.125f, -0.375f, 1.1f, -1.1f, 31f,
        32f, 33f, -31f, -32f, -40f, 1e9f, -1e9f, 7.3f};
    Map<String, Tensor> out;
    try (OrtReference ort = model("quantize_s8")) {
      assertEquals(List.of("q", "shape"), ort.outputNames());
      out = ort.run(Map.of("x", Tensor.ofFloat32(values, 4, 4)));
    }
    Tensor q = out.get("q");
    assertEquals(DType.INT8, q.dtype());
    assertArrayEquals(new long[] {4, 4}, q.shape());
    for (int i = 0; i < values.length; i++) {
      double scaled = Math.rint(values[i] / 0.25) - 3;
      int expected = (int) Math.max(-128, Math.min(127, scaled));
      assertEquals(expected, q.getInt8(i), "q[" + i + "] for " + values[i]);
    }
    Tensor shape = out.get("shape");
    assertEquals(DType.INT64, shape.dtype());
    assertEquals(4, shape.getInt64(0));
    assertEquals(4, shape.getInt64(1));
  }

  @Test
  void inputsThatDoNotMatchTheModelAreNamed() throws IOException {
    Tensor a = Tensor.ofInt8(new byte[6], 2, 3);
    try (OrtReference ort = model("matmul_integer_s8s8")) {
      String missing = assertThrows(IllegalArgumentException.class,
          () -> ort.run(Map.of("A", a))).getMessage();
      assertTrue(missing.endsWith("no tensor for input 'B' (the model's inputs: [A, B])"),
          missing);
      String unknown = assertThrows(IllegalArgumentException.class,
          () -> ort.run(Map.of("A", a, "B", a, "C", a))).getMessage();
      assertTrue(unknown.endsWith("no input named 'C' (the model's inputs: [A, B])"), unknown);
      String dtype = assertThrows(IllegalArgumentException.class, () -> ort.run(Map.of(
          "A", a, "B", Tensor.ofInt32(new int[3], 3, 1)))).getMessage();
      assertTrue(dtype.endsWith("input 'B' has dtype int32 (expected int8)"), dtype);
      String rank = assertThrows(IllegalArgumentException.class, () -> ort.run(Map.of(
          "A", a, "B", Tensor.ofInt8(new byte[3], 3)))).getMessage();
      assertTrue(rank.endsWith("input 'B' has shape 3 (expected [-1, -1], -1 for any size)"),
          rank);
    }
    try (OrtReference ort = model("quantize_s8")) {
      String shape = assertThrows(IllegalArgumentException.class, () -> ort.run(Map.of(
          "x", Tensor.ofFloat32(new float[6], 2, 3)))).getMessage();
      assertTrue(shape.endsWith("input 'x' has shape 2x3 (expected [-1, 4], -1 for any size)"),
          shape);
    }
  }

  @ParameterizedTest(name = "ci={0}")
  @ValueSource(booleans = {false, true})
  void anUnloadableLibrarySkipsOnADevelopersMachineAndFailsInCi(boolean ci, @TempDir Path empty)
      throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"),
        "-Donnxruntime.native.path=" + empty, "-Dsystole.ci=" + ci, Unloadable.class.getName());
    pb.environment().remove("CI");
    pb.redirectErrorStream(true);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, p.waitFor(), out);
    String thrown = ci ? AssertionFailedError.class.getName()
        : TestAbortedException.class.getName();
    assertTrue(out.startsWith(thrown + ": "), out);
    assertTrue(out.contains("Native library 'onnxruntime' not found at " + empty), out);
  }

  /** What {@link OrtReference#environment()} throws, printed, in a JVM started by the test. */
  static final class Unloadable {
    public static void main(String[] args) {
      try {
        OrtReference.environment();
        System.out.println("loaded");
      } catch (AssertionFailedError | TestAbortedException e) {
        System.out.println(e.getClass().getName() + ": " + e.getMessage());
      }
    }
  }

  @Test
  void aModelOnnxRuntimeCannotReadIsNamed() throws IOException {
    byte[] truncated = Arrays.copyOf(
        Files.readAllBytes(MODELS.resolve("quantize_s8.onnx")), 100);
    String msg = assertThrows(IllegalArgumentException.class,
        () -> OrtReference.load("quantize_s8.onnx, cut at 100 bytes", truncated)).getMessage();
    assertTrue(msg.startsWith("quantize_s8.onnx, cut at 100 bytes: ONNX Runtime cannot load"
        + " the model: "), msg);
  }
}
