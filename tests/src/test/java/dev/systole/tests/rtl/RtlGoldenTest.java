package dev.systole.tests.rtl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.driver.Device;
import dev.systole.driver.Devices;
import dev.systole.driver.contract.Counter;
import dev.systole.driver.contract.Param;
import dev.systole.host.golden.GoldenProgram;
import dev.systole.host.golden.GoldenRunner;
import dev.systole.host.golden.GoldenSet;
import dev.systole.testing.Tools;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every golden program on the RTL, through the host's real device path (XdmaDevice on a sim board
 * whose engine is the Verilated RTL): identical bytes, identical error codes, and the timing
 * model's cycle counts exactly with the fixed-latency memory. With the HBM model the bytes and
 * errors are the same, and the cycle counts are within {@link HbmBound} of the model's. The
 * golden programs are short (most under 500 cycles) and place their data by hand in one HBM
 * channel, so they see the memory's refreshes and row conflicts undiluted.
 *
 * <p>The RTL has no vector unit yet (it reports VECTOR_UNIT = 0): the programs written for the
 * vector unit are skipped, saying so, and those written for a build without it run.
 */
class RtlGoldenTest {
  @BeforeAll
  static void needVerilator() {
    Tools.require("verilator", "verilator");
  }

  /** Whether {@code o} is the skip of a program that needs the vector unit the RTL lacks. */
  private static boolean skippedForTheVectorUnit(GoldenRunner.Outcome o) {
    return o.verdict() == GoldenRunner.Verdict.SKIP
        && Long.valueOf(1).equals(o.program().requires().get(Param.VECTOR_UNIT))
        && o.problems().equals(List.of("needs VECTOR_UNIT=1, device has 0"));
  }

  @Test
  void everyGoldenProgramIsExactWithTheFixedLatencyMemory() {
    List<String> failures = new ArrayList<>();
    int passed = 0;
    int skipped = 0;
    try (Device d = Devices.open("sim")) {
      GoldenRunner runner = new GoldenRunner(Duration.ofMinutes(2), true);
      for (GoldenProgram g : GoldenSet.bundled()) {
        GoldenRunner.Outcome o = runner.run(d, g);
        System.out.println("rtl fixed: " + o.line());
        if (o.verdict() == GoldenRunner.Verdict.PASS) {
          passed++;
        } else if (skippedForTheVectorUnit(o)) {
          skipped++;
        } else {
          failures.add(o.line());
        }
      }
    }
    assertEquals(List.of(), failures);
    assertEquals(GoldenSet.bundled().size(), passed + skipped);
    assertTrue(passed > skipped, passed + " passed, " + skipped + " skipped");
  }

  @Test
  void everyGoldenProgramIsRightAndNearTheModelWithTheHbmModel() {
    List<String> failures = new ArrayList<>();
    List<String> outside = new ArrayList<>();
    double worst = 0;
    try (Device d = Devices.open("sim:MEM=hbm")) {
      GoldenRunner runner = new GoldenRunner(Duration.ofMinutes(2), false);
      for (GoldenProgram g : GoldenSet.bundled()) {
        GoldenRunner.Outcome o = runner.run(d, g);
        if (skippedForTheVectorUnit(o)) {
          continue;
        }
        if (o.verdict() != GoldenRunner.Verdict.PASS) {
          failures.add(o.line());
          continue;
        }
        long model = g.expectedCounters().get(Counter.CYCLES);
        double off = Math.abs(o.cycles() - model) / (double) model;
        worst = Math.max(worst, off);
        System.out.printf("rtl hbm: %-28s model %8d rtl %8d  %+6.2f%%%n", g.name(), model,
            o.cycles(), 100.0 * (o.cycles() - model) / model);
        if (!HbmBound.within(model, o.cycles())) {
          outside.add(g.name() + ": rtl " + o.cycles() + " model " + model);
        }
      }
    }
    System.out.printf("rtl hbm: worst difference from the timing model %.2f%%%n", 100 * worst);
    assertEquals(List.of(), failures);
    assertEquals(List.of(), outside, "cycles not " + HbmBound.describe());
  }
}
