package dev.systole.tests.cli;

import static dev.systole.tests.cli.GemmCliTest.systole;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.host.cli.ExitCodes;
import dev.systole.host.cli.diag.Json;
import dev.systole.host.run.Example;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Npy;
import dev.systole.host.tensor.Tensor;
import dev.systole.testing.LeakCheckExtension;
import dev.systole.tests.cli.GemmCliTest.Run;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The model commands (compile, run, demo, bench model) run as a user runs them. */
@ExtendWith(LeakCheckExtension.class)
class ModelCliTest {
  /** The bundled example's model, written to {@code dir}. */
  static Path model(Path dir) throws IOException {
    Path file = dir.resolve("model.onnx");
    try (InputStream in = ModelCliTest.class.getClassLoader().getResourceAsStream(
        Example.RESOURCE + "model.onnx")) {
      Files.write(file, in.readAllBytes());
    }
    return file;
  }

  /** A command's JSON output, which must be one object. */
  @SuppressWarnings("unchecked")
  static Map<String, Object> object(String out) {
    Object v = Json.read(out);
    assertTrue(v instanceof Map, "not a JSON object: " + out);
    return (Map<String, Object>) v;
  }

  /** The first {@code n} test images as the model's float input, written to {@code file}. */
  static Path images(Path file, int n) throws IOException {
    Example ex = Example.bundled();
    Tensor all = ex.toInput(ex.testImages());
    Tensor first = Tensor.allocate(DType.FLOAT32, n, 1, 28, 28);
    first.data().put(all.data().limit(n * 28 * 28 * 4));
    Npy.write(file, first);
    return file;
  }

  @Test
  void compileReportsEveryNodeWithWhereItRunsAndItsCycles(@TempDir Path dir) throws Exception {
    Run r = systole("compile", model(dir).toString(), "--report", "--batch", "8");
    assertEquals(ExitCodes.OK, r.code(), r.err());
    String out = r.out();
    assertTrue(out.contains("no --calibration: placement and cycles"), out);
    assertTrue(out.contains("inputs image 8x1x28x28, for a 16x16 array at 300 MHz"), out);
    for (String op : new String[] {"Conv", "BatchNormalization", "Relu", "MaxPool", "Add",
        "Flatten", "Gemm"}) {
      assertTrue(out.contains(" " + op + " "), op + " in\n" + out);
    }
    assertTrue(out.contains("device #0"), out);
    assertTrue(out.contains("fused into"), out);
    assertTrue(out.contains("8x1x28x28"), "input shapes at the batch: " + out);
    assertTrue(out.matches("(?s).*\\d+ nodes: \\d+ on the device in 1 program, \\d+ fused into"
        + " device layers, 0 on the cpu.*"), out);
    assertTrue(out.matches("(?s).*estimated device cycles [\\d,]+ \\(.*"), out);

    Run shaped = systole("compile", dir.resolve("model.onnx").toString(), "--shape",
        "image=3x1x28x28");
    assertEquals(ExitCodes.OK, shaped.code(), shaped.err());
    assertTrue(shaped.out().contains("inputs image 3x1x28x28,"), shaped.out());
    Run wrong = systole("compile", dir.resolve("model.onnx").toString(), "--shape",
        "image=3x28x28");
    assertEquals(ExitCodes.BAD_INPUT, wrong.code(), wrong.out());
    assertTrue(wrong.err().contains("input 'image' has shape 3x28x28, expected float32"),
        wrong.err());

    Run totals = systole("compile", dir.resolve("model.onnx").toString());
    assertEquals(ExitCodes.OK, totals.code(), totals.err());
    assertTrue(!totals.out().contains("runs on") && totals.out().contains("estimated"),
        totals.out());
  }

  @Test
  void compileJsonIsTheReportAsOneJsonObject(@TempDir Path dir) throws Exception {
    Run r = systole("compile", model(dir).toString(), "--json", "--batch", "2");
    assertEquals(ExitCodes.OK, r.code(), r.err());
    Map<String, Object> summary = new java.util.HashMap<>();
    int nodes = 0;
    try (com.fasterxml.jackson.core.JsonParser p = new com.fasterxml.jackson.core.JsonFactory()
        .createParser(r.out())) {
      String field = null;
      boolean inSummary = false;
      com.fasterxml.jackson.core.JsonToken t;
      while ((t = p.nextToken()) != null) {
        if (t == com.fasterxml.jackson.core.JsonToken.FIELD_NAME) {
          field = p.currentName();
          inSummary |= field.equals("summary");
          nodes += field.equals("runs_on") ? 1 : 0;
        } else if (inSummary && t.isScalarValue()) {
          summary.put(field, p.getText());
        }
      }
    }
    assertTrue(nodes > 5, r.out());
    assertEquals("1", summary.get("device_programs"), r.out());
    assertEquals("0", summary.get("host_round_trips"), r.out());
    assertEquals("1", summary.get("device_mac_share"), r.out());
    assertTrue(!r.out().contains("no --calibration"), "only JSON on the output: " + r.out());
  }

  @Test
  void aModelOnnxRuntimeRefusesIsRefusedWithItsMessageNamingTheFile(@TempDir Path dir)
      throws Exception {
    byte[] bytes = Files.readAllBytes(model(dir));
    String latin = new String(bytes, StandardCharsets.ISO_8859_1).replace("Relu", "Relx");
    Path bad = dir.resolve("bad.onnx");
    Files.write(bad, latin.getBytes(StandardCharsets.ISO_8859_1));
    Run r = systole("compile", bad.toString());
    assertEquals(ExitCodes.BAD_INPUT, r.code(), r.out());
    assertTrue(r.err().startsWith("systole compile: " + bad + ": ONNX Runtime cannot load the"
        + " model: "), r.err());
    assertTrue(r.err().contains("No Op registered for Relx"), r.err());
  }

  @Test
  void runWritesOutputsAndProfiles(@TempDir Path dir) throws Exception {
    Path model = model(dir);
    Path in = images(dir.resolve("in.npy"), 8);
    Path calib = images(dir.resolve("calib.npy"), 32);
    Path out = dir.resolve("out");
    Run r = systole("run", model.toString(), "--input", "image=" + in, "--out", out.toString(),
        "--calibration", calib.toString(), "--device", "emulator", "--profile");
    assertEquals(ExitCodes.OK, r.code(), r.err());
    Tensor logits = Npy.read(out.resolve("logits.npy"));
    assertEquals(DType.FLOAT32, logits.dtype());
    assertArrayEquals(new long[] {8, 10}, logits.shape());
    assertTrue(r.out().contains("logits: float32 8x10 -> "), r.out());
    assertTrue(r.out().contains("1 device program"), r.out());
    assertTrue(r.out().contains("device layer") && r.out().contains("utilization"), r.out());
    assertTrue(r.out().matches("(?s).*total\\s+[\\d,]+\\s+[\\d.]+%.*"), r.out());
    assertTrue(r.out().matches("(?s).*kept loaded\\s+1 plan \\(at most 8, least recently run"
        + " first\\)\\s+image 8x1x28x28: 1 of 1 device graph loaded \\(programs for batch 8;"
        + " card memory [\\d.]+ KiB of weights, [\\d.]+ [KM]iB of programs\\).*"), r.out());

    Run uncalibrated = systole("run", model.toString(), "--input", in.toString(), "--out",
        out.toString(), "--device", "emulator");
    assertEquals(ExitCodes.OK, uncalibrated.code(), uncalibrated.err());
    assertTrue(uncalibrated.out().contains("no --calibration: calibrating the float model on"
        + " the 8 input rows given"), uncalibrated.out());
  }

  @Test
  void runNamesAWrongInput(@TempDir Path dir) throws Exception {
    Path model = model(dir);
    Tensor wrong = Tensor.allocate(DType.FLOAT32, 2, 28, 28);
    Path file = dir.resolve("wrong.npy");
    Npy.write(file, wrong);
    Run r = systole("run", model.toString(), "--input", "image=" + file, "--out",
        dir.resolve("o").toString(), "--calibration", images(dir.resolve("c.npy"), 4).toString(),
        "--device", "emulator");
    assertEquals(ExitCodes.BAD_INPUT, r.code(), r.out());
    assertTrue(r.err().contains("input 'image' has shape 2x28x28, expected float32 Nx1x28x28"),
        r.err());
    Run unknown = systole("run", model.toString(), "--input", "pixels=" + file, "--out",
        dir.resolve("o").toString(), "--device", "emulator");
    assertEquals(ExitCodes.BAD_INPUT, unknown.code(), unknown.out());
    assertTrue(unknown.err().contains("the model has no input 'pixels' (expected one of"
        + " [image])"), unknown.err());
  }

  @Test
  void demoPrintsTheAccuracyPairThroughputAndUtilization() {
    Run r = systole("demo", "--device", "emulator");
    assertEquals(ExitCodes.OK, r.code(), r.err());
    assertTrue(r.out().matches("(?s).*top-1 accuracy\\s+int8 on emulator \\d+\\.\\d %, fp32 on"
        + " the cpu 91\\.4 %.*"), r.out());
    assertTrue(r.out().matches("(?s).*throughput\\s+\\d+ images/s.*"), r.out());
    assertTrue(r.out().matches("(?s).*utilization\\s+\\d+\\.\\d % of the 16x16 array.*"),
        r.out());
  }

  @Test
  void benchModelPrintsThroughputAndLatency(@TempDir Path dir) throws Exception {
    Run r = systole("bench", "model", model(dir).toString(), "--batch", "4", "--iterations", "3",
        "--warmup", "1", "--device", "emulator", "--json");
    assertEquals(ExitCodes.OK, r.code(), r.err());
    Map<String, Object> json = object(r.out());
    assertEquals(List.of("bench", "model", "batch"), List.copyOf(json.keySet()).subList(0, 3),
        r.out());
    assertEquals("model", json.get("bench"));
    assertEquals("model.onnx", json.get("model"));
    assertEquals(4L, json.get("batch"));
    List<String> keys = List.copyOf(json.keySet());
    assertEquals(List.of("throughput_per_second", "latency_median_seconds",
        "latency_p99_seconds", "iterations"), keys.subList(keys.size() - 4, keys.size()),
        r.out());
    for (String k : List.of("throughput_per_second", "latency_median_seconds",
        "latency_p99_seconds")) {
      assertTrue(((Number) json.get(k)).doubleValue() > 0, k + " in " + r.out());
    }
    assertEquals(3L, json.get("iterations"));
    @SuppressWarnings("unchecked")
    Map<String, Object> loaded = (Map<String, Object>) json.get("loaded");
    assertEquals(8L, loaded.get("limit"), r.out());
    @SuppressWarnings("unchecked")
    Map<String, Object> plan = ((List<Map<String, Object>>) loaded.get("plans")).get(0);
    assertEquals(List.of(4L), plan.get("batches"), r.out());
    assertTrue(((Number) plan.get("program_bytes")).longValue() > 0, r.out());
    Run text = systole("bench", "model", dir.resolve("model.onnx").toString(), "--iterations",
        "2", "--warmup", "0", "--device", "emulator");
    assertEquals(ExitCodes.OK, text.code(), text.err());
    assertTrue(text.out().contains("no --calibration: calibrating the float model on the 1"
        + " input row given"), text.out());
    assertTrue(text.out().matches("(?s).*latency\\s+median [\\d.]+ [mu]s, p99 [\\d.]+ [mu]s per"
        + " batch.*"), text.out());
    Run shaped = systole("bench", "model", dir.resolve("model.onnx").toString(), "--shape",
        "image=3x1x28x28", "--iterations", "2", "--warmup", "0", "--device", "emulator",
        "--json");
    assertEquals(ExitCodes.OK, shaped.code(), shaped.err());
    assertEquals(3L, object(shaped.out()).get("batch"), shaped.out());
    Run wrong = systole("bench", "model", dir.resolve("model.onnx").toString(), "--shape",
        "tokens=3x1x28x28", "--device", "emulator");
    assertEquals(ExitCodes.BAD_INPUT, wrong.code(), wrong.out());
    assertTrue(wrong.err().contains("the model has no input 'tokens'"), wrong.err());
  }

  @Test
  void deviceCpuRunsTheFloatModelAsTheReference(@TempDir Path dir) throws Exception {
    Path model = model(dir);
    Path in = images(dir.resolve("in.npy"), 6);
    Run cpu = systole("run", model.toString(), "--input", in.toString(), "--out",
        dir.resolve("cpu").toString(), "--device", "cpu", "--threads", "1");
    assertEquals(ExitCodes.OK, cpu.code(), cpu.err());
    assertTrue(cpu.out().contains("on the cpu engine (ONNX Runtime, float, 1 thread)"),
        cpu.out());
    Run emu = systole("run", model.toString(), "--input", in.toString(), "--out",
        dir.resolve("emu").toString(), "--calibration", images(dir.resolve("c.npy"), 32)
            .toString(), "--device", "emulator");
    assertEquals(ExitCodes.OK, emu.code(), emu.err());
    Tensor fp = Npy.read(dir.resolve("cpu").resolve("logits.npy"));
    Tensor q = Npy.read(dir.resolve("emu").resolve("logits.npy"));
    assertArrayEquals(fp.shape(), q.shape());
    int agree = 0;
    for (int i = 0; i < 6; i++) {
      int a = 0;
      int b = 0;
      for (int c = 1; c < 10; c++) {
        a = fp.getFloat32(i * 10 + c) > fp.getFloat32(i * 10 + a) ? c : a;
        b = q.getFloat32(i * 10 + c) > q.getFloat32(i * 10 + b) ? c : b;
      }
      agree += a == b ? 1 : 0;
    }
    assertTrue(agree >= 5, "int8 on the emulator and fp32 on the cpu agree on " + agree
        + " of 6 images");

    Run bench = systole("bench", "model", model.toString(), "--device", "cpu", "--iterations",
        "3", "--warmup", "1", "--json");
    assertEquals(ExitCodes.OK, bench.code(), bench.err());
    Map<String, Object> cpuJson = object(bench.out());
    assertEquals(List.of("bench", "model", "batch", "device", "threads",
        "throughput_per_second"), List.copyOf(cpuJson.keySet()).subList(0, 6), bench.out());
    assertEquals(1L, cpuJson.get("batch"));
    assertEquals("cpu", cpuJson.get("device"));
    assertTrue(cpuJson.get("threads") instanceof Long, bench.out());
    Run demo = systole("demo", "--device", "cpu");
    assertEquals(ExitCodes.BAD_INPUT, demo.code(), demo.out());
    assertTrue(demo.err().contains("this command needs a device"), demo.err());
  }
}
