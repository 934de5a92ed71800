package dev.systole.tests.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.host.cli.ExitCodes;
import dev.systole.host.cli.SystoleCli;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The simboard command: it serves until stopped, and refuses what it cannot serve. */
class SimboardCliTest {
  @TempDir
  Path dir;

  @Test
  void servesUntilInterruptedAndSaysSoInOneLine() throws Exception {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = SystoleCli.commandLine();
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    AtomicInteger code = new AtomicInteger(-1);
    Thread serving = new Thread(() -> code.set(cl.execute("simboard", "--dir", dir.toString(),
        "--params", "ARRAY=8,HBM_MB=64", "--fault", "hang", "--fault", "spurious-irq")));
    serving.start();
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (!out.toString().contains("\n") && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertEquals("sim board serving " + dir + " (emulator engine, array 8x8, HBM 64 MiB, faults"
        + " hang, spurious-irq)\n", out.toString(), err.toString());
    assertTrue(Files.exists(dir.resolve("simboard.pid")));
    assertTrue(Files.readString(dir.resolve("simboard.json"))
        .contains("\"faults\": [\"hang\", \"spurious-irq\"]"));
    assertEquals(64L << 20, Files.size(dir.resolve("xdma0_h2c_0")));
    serving.interrupt();
    serving.join(10_000);
    assertFalse(serving.isAlive());
    assertEquals(ExitCodes.OK, code.get(), err.toString());
    assertFalse(Files.exists(dir.resolve("simboard.pid")));
  }

  @Test
  void unknownFaultsAndEnginesAreUsageErrors() {
    GemmCliTest.Run r = GemmCliTest.systole("simboard", "--dir", dir.toString(), "--fault",
        "melt");
    assertEquals(ExitCodes.USAGE, r.code());
    assertTrue(r.err().contains("no fault \"melt\" (expected one of hang, link-down,"
        + " spurious-irq, dma-fail, dma-short, dma-corrupt, hbm-stuck-bit, no-irq,"
        + " link-degraded)"), r.err());
    r = GemmCliTest.systole("simboard", "--dir", dir.toString(), "--engine", "fpga");
    assertEquals(ExitCodes.USAGE, r.code());
    assertTrue(r.err().contains("\"fpga\" is not an engine (expected emulator or rtl)"), r.err());
  }

  @Test
  void badParametersAreBadInput() {
    GemmCliTest.Run r = GemmCliTest.systole("simboard", "--dir", dir.toString(), "--params",
        "ARRAY=8,HBM_MB=0");
    assertEquals(ExitCodes.BAD_INPUT, r.code());
    assertTrue(r.err().contains("HBM_MB: 0 out of range"), r.err());
  }
}
