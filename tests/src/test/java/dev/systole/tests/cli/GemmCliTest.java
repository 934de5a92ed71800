package dev.systole.tests.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.host.cli.ExitCodes;
import dev.systole.host.cli.SystoleCli;
import dev.systole.host.tensor.Npy;
import dev.systole.host.tensor.Tensor;
import dev.systole.testing.Tools;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The gemm, bench and disasm commands, run as a user runs them. */
class GemmCliTest {
  private static final Path FIXTURE = Tools.root().resolve("tests/src/test/resources/gemm");

  record Run(int code, String out, String err) {}

  static Run systole(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = SystoleCli.commandLine();
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    int code = cl.execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  @Test
  void gemmEqualsNumpyExactly(@TempDir Path dir) throws Exception {
    Path c = dir.resolve("c.npy");
    Run r = systole("gemm", "--a", FIXTURE.resolve("a.npy").toString(), "--b",
        FIXTURE.resolve("b.npy").toString(), "--bias", FIXTURE.resolve("bias.npy").toString(),
        "--out", c.toString(), "--device", "emulator");
    assertEquals(ExitCodes.OK, r.code(), r.err());
    assertTrue(r.out().contains("37x300 * 300x53 -> int32 37x53 on emulator"), r.out());
    Tensor want = Npy.read(FIXTURE.resolve("c.npy"));
    assertEquals(want, Npy.read(c));
    assertTrue(java.util.Arrays.equals(Files.readAllBytes(FIXTURE.resolve("c.npy")),
        Files.readAllBytes(c)), "the .npy file itself is byte-identical to NumPy's");
  }

  @Test
  void requantizedGemmWritesInt8(@TempDir Path dir) throws Exception {
    Path c = dir.resolve("q.npy");
    Run r = systole("gemm", "--a", FIXTURE.resolve("a.npy").toString(), "--b",
        FIXTURE.resolve("b.npy").toString(), "--out", c.toString(), "--device", "emulator",
        "--scale", "0.0005", "--zero-point", "4", "--relu");
    assertEquals(ExitCodes.OK, r.code(), r.err());
    Tensor q = Npy.read(c);
    Tensor raw = Npy.read(FIXTURE.resolve("c.npy"));
    Tensor bias = Npy.read(FIXTURE.resolve("bias.npy"));
    for (int i = 0; i < q.numel(); i++) {
      double real = (raw.getInt32(i) - bias.getInt32(i % 53)) * 0.0005 + 4;
      long expect = Math.max(4, Math.min(127, Math.round(real)));
      assertTrue(Math.abs(q.getInt8(i) - expect) <= 1, "element " + i + ": " + q.getInt8(i)
          + " vs " + real);
    }
  }

  @Test
  void shapesThatDoNotAgreeAreNamed(@TempDir Path dir) {
    Run r = systole("gemm", "--a", FIXTURE.resolve("b.npy").toString(), "--b",
        FIXTURE.resolve("b.npy").toString(), "--out", dir.resolve("x.npy").toString(),
        "--device", "emulator");
    assertEquals(ExitCodes.BAD_INPUT, r.code());
    assertTrue(r.err().contains("A is 300x53 and B is 300x53: A's columns must equal B's rows"),
        r.err());
    r = systole("gemm", "--a", FIXTURE.resolve("a.npy").toString(), "--b",
        FIXTURE.resolve("c.npy").toString(), "--out", dir.resolve("x.npy").toString(),
        "--device", "emulator");
    assertEquals(ExitCodes.BAD_INPUT, r.code());
    assertTrue(r.err().contains("B (") && r.err().contains("is int32 37x53 (expected int8"),
        r.err());
  }

  @Test
  void benchPrintsItsFigures() {
    Run r = systole("bench", "gemm", "--m", "64", "--n", "48", "--k", "80", "--iterations", "3",
        "--warmup", "1", "--device", "emulator");
    assertEquals(ExitCodes.OK, r.code(), r.err());
    for (String s : new String[] {"device cycles", "device time", "array utilization",
        "host wall time", "host overhead", "GOPS"}) {
      assertTrue(r.out().contains(s), s + " missing from:\n" + r.out());
    }
    Run json = systole("bench", "gemm", "--m", "16", "--n", "16", "--k", "16", "--iterations",
        "2", "--json", "--device", "emulator");
    assertEquals(ExitCodes.OK, json.code(), json.err());
    assertTrue(json.out().strip().startsWith("{\"bench\":\"gemm\""), json.out());
    assertTrue(json.out().contains("\"utilization\":"), json.out());
  }

  @Test
  void benchConvPrintsCyclesThatTheTimingModelPredicts() {
    Run r = systole("bench", "conv", "--h", "12", "--w", "10", "--c", "5", "--oc", "17", "--k",
        "3", "--stride", "2", "--batch", "3", "--iterations", "2", "--warmup", "0", "--device",
        "emulator");
    assertEquals(ExitCodes.OK, r.code(), r.err());
    assertTrue(r.out().contains("bench conv 12x10x5 -> 6x5x17"), r.out());
    java.util.regex.Matcher m = java.util.regex.Pattern.compile(
        "device cycles +([0-9,]+) per batch \\(timing model ([0-9,]+)\\)").matcher(r.out());
    assertTrue(m.find(), r.out());
    assertEquals(m.group(2), m.group(1), "the emulator runs the timing model");
    assertTrue(r.out().contains("array utilization"), r.out());
    Run bad = systole("bench", "conv", "--k", "0", "--device", "emulator");
    assertEquals(ExitCodes.BAD_INPUT, bad.code());
    assertTrue(bad.err().contains("--k 0"), bad.err());
  }

  @Test
  void disasmPrintsACompiledGemmAndAFile(@TempDir Path dir) throws Exception {
    Run r = systole("disasm", "--gemm", "37x300x53", "--requant");
    assertEquals(ExitCodes.OK, r.code(), r.err());
    assertTrue(r.out().contains("MATMUL"), r.out());
    assertTrue(r.out().contains("REQUANT"), r.out());
    assertTrue(r.out().strip().endsWith("HALT"), r.out());
    Path bin = dir.resolve("p.bin");
    Files.write(bin, dev.systole.driver.contract.Instruction.encode(java.util.List.of(
        dev.systole.driver.contract.Assembler.parse("MATMUL rows=0"),
        dev.systole.driver.contract.Assembler.parse("HALT"))));
    r = systole("disasm", bin.toString());
    assertEquals(ExitCodes.CHECK_FAILED, r.code());
    assertTrue(r.out().contains("0  MATMUL    ; ZERO_LENGTH: MATMUL rows=0 (expected >= 1)"),
        r.out());
    Files.write(bin, new byte[33]);
    r = systole("disasm", bin.toString());
    assertEquals(ExitCodes.BAD_INPUT, r.code());
    assertTrue(r.err().contains("has 33 bytes (expected a multiple of 32"), r.err());
  }
}
