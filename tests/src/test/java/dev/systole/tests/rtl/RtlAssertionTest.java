package dev.systole.tests.rtl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.rtl.RtlBuild;
import dev.systole.testing.Tools;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The RTL's assertions are checked in every Verilator run, and a violated one fails the run.
 * {@code scripts/rtl-tests} builds the unit testbenches with {@code --assert}; the testbench
 * fpga/tb/assertion drives small instances of the FIFO, a RAM, the register window, instruction
 * fetch and the array, by their rules in its legal mode (which passes) and breaking one rule in
 * each other mode, which must end the run with that assertion's message. The library the RTL sim
 * board loads ({@code scripts/build-rtl-sim}) is built with the assertions in it.
 */
class RtlAssertionTest {
  private static Path bench;

  @BeforeAll
  static void buildTheBench() throws Exception {
    Tools.require("verilator", "verilator");
    // Builds the bench as every bench is built (or reuses the build) and runs its legal mode.
    String out = RtlTestbenchTest.run(List.of("scripts/rtl-tests", "assertion"), 10);
    assertTrue(out.contains("rtl-tests: 1 passed, 0 failed"), out);
    bench = Tools.root().resolve("target/rtl-tb/assertion/tb");
    assertTrue(Files.isExecutable(bench), bench + " was not built");
  }

  record Run(int exit, String output) {}

  static Run runBench(String mode) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(bench.toString(), mode).directory(bench.getParent().toFile())
        .redirectErrorStream(true).start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(2, TimeUnit.MINUTES), bench + " " + mode + " did not finish");
    return new Run(p.exitValue(), out);
  }

  @Test
  void theLegalRunPasses() throws Exception {
    Run r = runBench("legal");
    assertEquals(0, r.exit(), r.output());
    assertTrue(r.output().contains("no assertion failed: passed"), r.output());
    assertTrue(!r.output().contains("Assertion failed"), r.output());
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', textBlock = """
      fifo-push-full      | systole_fifo: push into a full FIFO
      fifo-pop-empty      | systole_fifo: pop of an empty FIFO
      ram-row-range       | systole_ram: write address 50 not below Rows = 48
      axil-aw-changed     | systole_regs: AW: awaddr changed while awvalid && !awready
      fetch-r-unrequested | systole_fetch: R: beat that no accepted AR asked for
      array-tile-overlap  | systole_array: w_first_i 2 cycles after the last tile began (D = 4)
      array-bank-hazard   | systole_array: a valid row reads weight bank 0 while a tile is written
      """)
  void aViolatedAssertionFailsTheRun(String mode, String message) throws Exception {
    Run r = runBench(mode);
    // Exit 1: the run stopped on a failed assertion (2 would be a violation nothing noticed).
    assertEquals(1, r.exit(), r.output());
    assertTrue(r.output().contains("Assertion failed in"), r.output());
    assertTrue(r.output().contains(message), "no \"" + message + "\" in:\n" + r.output());
    assertTrue(r.output().contains("mode " + mode + ": the run failed on an assertion"),
        r.output());
  }

  @Test
  void theSimBoardLibraryIsBuiltWithTheAssertions() throws Exception {
    Path lib = RtlBuild.library(DeviceParams.defaults());
    String bytes = new String(Files.readAllBytes(lib), StandardCharsets.ISO_8859_1);
    for (String message : List.of("systole_fifo: push into a full FIFO",
        "systole_load: AR: araddr/arlen changed while arvalid && !arready",
        "systole_store: W: wdata/wstrb/wlast changed while wvalid && !wready",
        "systole_regs: R: rdata/rresp changed while rvalid && !rready")) {
      assertTrue(bytes.contains(message), lib + " has no assertion \"" + message + "\"");
    }
  }
}
