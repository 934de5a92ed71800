package dev.systole.tests.golden;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.driver.Device;
import dev.systole.driver.Devices;
import dev.systole.driver.contract.Counter;
import dev.systole.driver.contract.ErrorCode;
import dev.systole.driver.contract.Param;
import dev.systole.host.cli.ExitCodes;
import dev.systole.host.cli.SystoleCli;
import dev.systole.host.golden.GoldenProgram;
import dev.systole.host.golden.GoldenRunner;
import dev.systole.host.golden.GoldenSet;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The bundled golden programs on the emulator, through the runner and through the CLI: on the
 * default build, which has the vector unit, and on a build without it, as a contract 1.0
 * bitstream and the RTL are. A program written for one of the two is skipped on the other, with
 * the parameter it needs in the message.
 */
class GoldenReplayTest {
  private static Device emulator;
  private static Device noVector;
  private static List<GoldenProgram> golden;

  @BeforeAll
  static void open() {
    emulator = Devices.open("emulator");
    noVector = Devices.open("emulator:VECTOR_UNIT=0");
    golden = GoldenSet.bundled();
  }

  @AfterAll
  static void close() {
    emulator.close();
    noVector.close();
  }

  /** The programs written for a build with VECTOR_UNIT = {@code v}. */
  private static long needingVectorUnit(long v) {
    return golden.stream().filter(g -> g.requires().get(Param.VECTOR_UNIT) != null
        && g.requires().get(Param.VECTOR_UNIT) == v).count();
  }

  @Test
  void everyInstructionAndEveryErrorIsCovered() {
    java.util.Set<ErrorCode> errors = java.util.EnumSet.noneOf(ErrorCode.class);
    java.util.Set<dev.systole.driver.contract.Opcode> ops =
        java.util.EnumSet.noneOf(dev.systole.driver.contract.Opcode.class);
    for (GoldenProgram g : golden) {
      errors.add(g.expectedError());
      g.program().forEach(in -> {
        if (in.opcode() != null) {
          ops.add(in.opcode());
        }
      });
    }
    // MEM_FAULT comes from the memory system, not from a program: fault injection tests it.
    assertEquals(java.util.EnumSet.complementOf(java.util.EnumSet.of(ErrorCode.MEM_FAULT)),
        errors);
    assertEquals(java.util.EnumSet.allOf(dev.systole.driver.contract.Opcode.class), ops);
  }

  @Test
  void everyGoldenProgramPassesWithExactTimingOnTheBuildItIsWrittenFor() {
    GoldenRunner runner = new GoldenRunner(Duration.ofSeconds(30), true);
    for (GoldenProgram g : golden) {
      Long vector = g.requires().get(Param.VECTOR_UNIT);
      for (Device d : List.of(emulator, noVector)) {
        long has = d.info().params().vectorUnit();
        GoldenRunner.Outcome o = runner.run(d, g);
        if (vector == null || vector == has) {
          assertEquals(GoldenRunner.Verdict.PASS, o.verdict(), "VECTOR_UNIT=" + has + ": "
              + o.line());
        } else {
          assertEquals(GoldenRunner.Verdict.SKIP, o.verdict(), o.line());
          assertEquals("needs VECTOR_UNIT=" + vector + ", device has " + has,
              o.problems().get(0));
        }
      }
    }
    assertTrue(needingVectorUnit(1) > 0 && needingVectorUnit(0) > 0);
  }

  @Test
  void theRunnerCatchesAWrongByteACounterAndAWrongStatus() {
    GoldenProgram g = golden.stream().filter(p -> p.name().equals("matmul_tile")).findFirst()
        .orElseThrow();
    GoldenRunner runner = new GoldenRunner(Duration.ofSeconds(30), true);

    byte[] wrong = g.expectedData().get(0).bytes().clone();
    wrong[70] ^= 1;
    GoldenProgram badBytes = new GoldenProgram(g.name(), g.description(), g.requires(),
        g.programAddress(), g.program(), g.inputs(), g.expectedError(), g.expectedErrorPc(),
        List.of(new GoldenProgram.Region(g.expectedData().get(0).address(), wrong)),
        g.expectedCounters());
    GoldenRunner.Outcome o = runner.run(emulator, badBytes);
    assertEquals(GoldenRunner.Verdict.FAIL, o.verdict());
    assertTrue(o.line().contains("1 of 1024 bytes differ at 0x800000; first at 0x800046"),
        o.line());

    Map<Counter, Long> counters = new HashMap<>(g.expectedCounters());
    counters.put(Counter.MACS, counters.get(Counter.MACS) + 1);
    GoldenProgram badCounter = new GoldenProgram(g.name(), g.description(), g.requires(),
        g.programAddress(), g.program(), g.inputs(), g.expectedError(), g.expectedErrorPc(),
        g.expectedData(), counters);
    o = runner.run(emulator, badCounter);
    assertTrue(o.line().contains("MACS = 4096, expected 4097"), o.line());

    GoldenProgram badStatus = new GoldenProgram(g.name(), g.description(), g.requires(),
        g.programAddress(), g.program(), g.inputs(), ErrorCode.BUF_RANGE, 2, g.expectedData(),
        g.expectedCounters());
    o = runner.run(emulator, badStatus);
    assertTrue(o.line().contains("ended with HALT, expected BUF_RANGE at 2"), o.line());
  }

  @Test
  void selftestCommandPassesOnTheEmulator() {
    StringWriter out = new StringWriter();
    CommandLine cl = SystoleCli.commandLine();
    cl.setOut(new PrintWriter(out));
    int code = cl.execute("selftest", "--device", "emulator");
    String[] lines = out.toString().strip().split("\n");
    assertEquals(ExitCodes.OK, code, out.toString());
    long skipped = needingVectorUnit(0);
    assertEquals((golden.size() - skipped) + " passed, 0 failed, " + skipped + " skipped",
        lines[lines.length - 1]);
    assertTrue(out.toString().contains("PASS  conv3x3_pad1"), out.toString());
    assertTrue(out.toString().contains("PASS  vsoftmax"), out.toString());
    assertTrue(out.toString().contains(String.format("SKIP  %-28s needs VECTOR_UNIT=0, device"
        + " has 1", "err_vector_no_unit")), out.toString());
  }

  @Test
  void selftestSkipsTheVectorProgramsOnABuildWithoutTheVectorUnitAndSaysWhy() {
    StringWriter out = new StringWriter();
    CommandLine cl = SystoleCli.commandLine();
    cl.setOut(new PrintWriter(out));
    int code = cl.execute("selftest", "--device", "emulator:VECTOR_UNIT=0");
    String[] lines = out.toString().strip().split("\n");
    assertEquals(ExitCodes.OK, code, out.toString());
    long skipped = needingVectorUnit(1);
    assertEquals((golden.size() - skipped) + " passed, 0 failed, " + skipped + " skipped",
        lines[lines.length - 1]);
    assertTrue(out.toString().contains(String.format("SKIP  %-28s needs VECTOR_UNIT=1, device"
        + " has 0", "vsoftmax")), out.toString());
    assertTrue(out.toString().contains("PASS  err_vector_no_unit"), out.toString());
  }

  @Test
  void selftestRefusesAnUnknownProgramName() {
    StringWriter err = new StringWriter();
    CommandLine cl = SystoleCli.commandLine();
    cl.setErr(new PrintWriter(err));
    cl.setOut(new PrintWriter(new StringWriter()));
    int code = cl.execute("selftest", "--device", "emulator", "--only", "nosuch");
    assertEquals(ExitCodes.BAD_INPUT, code);
    assertTrue(err.toString().contains("no golden program named nosuch"), err.toString());
  }
}
