package dev.systole.tests.golden;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.driver.Device;
import dev.systole.driver.Devices;
import dev.systole.driver.contract.Counter;
import dev.systole.driver.contract.ErrorCode;
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

/** The bundled golden programs on the emulator, through the runner and through the CLI. */
class GoldenReplayTest {
  private static Device emulator;
  private static List<GoldenProgram> golden;

  @BeforeAll
  static void open() {
    emulator = Devices.open("emulator");
    golden = GoldenSet.bundled();
  }

  @AfterAll
  static void close() {
    emulator.close();
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
  void everyGoldenProgramPassesWithExactTiming() {
    GoldenRunner runner = new GoldenRunner(Duration.ofSeconds(30), true);
    for (GoldenProgram g : golden) {
      GoldenRunner.Outcome o = runner.run(emulator, g);
      assertEquals(GoldenRunner.Verdict.PASS, o.verdict(), o.line());
    }
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
    assertEquals(golden.size() + " passed, 0 failed", lines[lines.length - 1]);
    assertTrue(out.toString().contains("PASS  conv3x3_pad1"), out.toString());
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
