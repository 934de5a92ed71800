package dev.systole.tests.cli;

import static dev.systole.tests.cli.GemmCliTest.systole;
import static dev.systole.tests.cli.ModelCliTest.images;
import static dev.systole.tests.cli.ModelCliTest.model;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.host.cli.ExitCodes;
import dev.systole.host.graph.Graph;
import dev.systole.host.importer.Onnx;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Npy;
import dev.systole.host.tensor.Tensor;
import dev.systole.testing.LeakCheckExtension;
import dev.systole.tests.cli.GemmCliTest.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile input, run as a user runs it: each case is refused with a message naming what was
 * wrong and a named exit code, or handled without losing anything, never answered silently.
 */
@ExtendWith(LeakCheckExtension.class)
class BadInputCliTest {
  @Test
  void aNanInAnInputOfTheQuantizedModelIsRefusedWithItsIndex(@TempDir Path dir)
      throws Exception {
    Path in = images(dir.resolve("in.npy"), 4);
    Tensor t = Npy.read(in);
    t.setFloat32(784 + 3 * 28 + 5, Float.NaN);
    Npy.write(in, t);
    Path out = dir.resolve("out");
    Run r = systole("run", model(dir).toString(), "--input", in.toString(), "--calibration",
        images(dir.resolve("cal.npy"), 32).toString(), "--out", out.toString(), "--device",
        "emulator");
    assertEquals(ExitCodes.BAD_INPUT, r.code(), r.out());
    assertTrue(r.err().contains("value 'image' holds NaN at index [1, 0, 3, 5]"), r.err());
    assertFalse(Files.exists(out), "nothing is written");
  }

  @Test
  void calibrationDataThatIsEmptyOrConstantIsRefusedByName(@TempDir Path dir) throws Exception {
    Path in = images(dir.resolve("in.npy"), 4);
    Path zeros = dir.resolve("zeros.npy");
    Npy.write(zeros, Tensor.allocate(DType.FLOAT32, 8, 1, 28, 28));
    Run r = systole("run", model(dir).toString(), "--input", in.toString(), "--calibration",
        zeros.toString(), "--out", dir.resolve("out").toString(), "--device", "emulator");
    assertEquals(ExitCodes.BAD_INPUT, r.code(), r.out());
    assertTrue(r.err().contains("calibration data for input 'image' is 0.0 throughout"),
        r.err());
    Path empty = dir.resolve("empty.npy");
    Npy.write(empty, Tensor.allocate(DType.FLOAT32, 0, 1, 28, 28));
    r = systole("run", model(dir).toString(), "--input", in.toString(), "--calibration",
        empty.toString(), "--out", dir.resolve("out").toString(), "--device", "emulator");
    assertEquals(ExitCodes.BAD_INPUT, r.code(), r.out());
    assertTrue(r.err().contains("calibration data for input 'image' is empty (shape"
        + " 0x1x28x28"), r.err());
  }

  @Test
  void outputsWhoseNamesMapToOneFileAreEachWrittenToTheirOwn(@TempDir Path dir)
      throws Exception {
    Graph g = Graph.builder().name("two").input("x", DType.FLOAT32, "N", 4).output("a/b")
        .output("a_b")
        .node("Relu", "relu", List.of("x"), List.of("a/b"), Map.of())
        .node("Neg", "neg", List.of("x"), List.of("a_b"), Map.of())
        .build();
    Path model = dir.resolve("two.onnx");
    Onnx.write(g, model);
    Path in = dir.resolve("x.npy");
    Tensor x = Tensor.ofFloat32(new float[] {-1, 2, -3, 4}, 1, 4);
    Npy.write(in, x);
    Path out = dir.resolve("out");
    Run r = systole("run", model.toString(), "--input", in.toString(), "--out", out.toString(),
        "--device", "cpu");
    assertEquals(ExitCodes.OK, r.code(), r.err());
    assertEquals(Tensor.ofFloat32(new float[] {0, 2, 0, 4}, 1, 4),
        Npy.read(out.resolve("a_b.npy")));
    assertEquals(Tensor.ofFloat32(new float[] {1, -2, 3, -4}, 1, 4),
        Npy.read(out.resolve("a_b_2.npy")));
    assertTrue(r.out().contains("a/b: float32 1x4 -> " + out.resolve("a_b.npy")), r.out());
    assertTrue(r.out().contains("a_b: float32 1x4 -> " + out.resolve("a_b_2.npy")), r.out());
  }

  @Test
  void anOutDirectoryThatIsAFileIsRefusedBeforeTheRun(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("taken"), "keep me");
    Run r = systole("run", model(dir).toString(), "--input", images(dir.resolve("in.npy"), 2)
        .toString(), "--out", file.toString(), "--device", "cpu");
    assertEquals(ExitCodes.BAD_INPUT, r.code(), r.out());
    assertTrue(r.err().contains("--out " + file + " is a file (expected a directory"), r.err());
    assertEquals("keep me", Files.readString(file));
  }

  @Test
  void aThreadCountOutsideItsRangeIsRefusedWithIt(@TempDir Path dir) throws Exception {
    Run r = systole("run", model(dir).toString(), "--input", images(dir.resolve("in.npy"), 2)
        .toString(), "--out", dir.resolve("out").toString(), "--device", "cpu", "--threads",
        "100000");
    assertEquals(ExitCodes.BAD_INPUT, r.code(), r.out());
    assertEquals("systole run: --threads 100000 (expected 1 to 256)", r.err().strip());
  }

  @Test
  void gemmDimensionsOfDisasmAreRangeChecked() {
    for (String gemm : List.of("axbxc", "0x4x4", "4x99999999x99999999")) {
      Run r = systole("disasm", "--gemm", gemm);
      assertEquals(ExitCodes.BAD_INPUT, r.code(), r.out());
      assertTrue(r.err().contains("(expected a whole number from 1 to 32768)"), r.err());
    }
  }

  @Test
  void aGraphOutputThatIsAnInitializerIsWritten(@TempDir Path dir) throws Exception {
    Tensor k = Tensor.ofFloat32(new float[] {1.5f, -2f}, 2);
    Graph g = Graph.builder().name("init").input("x", DType.FLOAT32, "N", 4).output("y")
        .output("k").initializer("k", k)
        .node("Relu", "relu", List.of("x"), List.of("y"), Map.of()).build();
    Path model = dir.resolve("init.onnx");
    Onnx.write(g, model);
    Path in = dir.resolve("x.npy");
    Npy.write(in, Tensor.ofFloat32(new float[] {-1, 2, -3, 4}, 1, 4));
    Run r = systole("run", model.toString(), "--input", in.toString(), "--out",
        dir.resolve("out").toString(), "--device", "emulator");
    assertEquals(ExitCodes.OK, r.code(), r.err());
    assertEquals(k, Npy.read(dir.resolve("out/k.npy")));
  }
}
