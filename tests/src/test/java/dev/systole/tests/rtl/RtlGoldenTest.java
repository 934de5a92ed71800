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
import java.util.HashMap;
import java.util.Map;
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
 * <p>Each test runs the set on the two builds of the RTL, the default one with the VECTOR unit and
 * one without it. A program written for one kind of build is skipped on the other, saying so;
 * every program runs on at least one, and those valid on both run on both.
 */
class RtlGoldenTest {
  private static final List<String> BUILDS = List.of("", ":VECTOR_UNIT=0,LUT_ROWS=0");

  @BeforeAll
  static void needVerilator() {
    Tools.require("verilator", "verilator");
  }

  /** Whether {@code o} is the skip of a program written for the other kind of build. */
  private static boolean skippedForTheOtherBuild(GoldenRunner.Outcome o) {
    return o.verdict() == GoldenRunner.Verdict.SKIP && o.program().requires()
        .containsKey(Param.VECTOR_UNIT) && o.problems().size() == 1
        && o.problems().get(0).startsWith("needs VECTOR_UNIT=");
  }

  @Test
  void everyGoldenProgramIsExactWithTheFixedLatencyMemory() {
    List<String> failures = new ArrayList<>();
    Map<String, Integer> passes = new HashMap<>();
    for (String build : BUILDS) {
      try (Device d = Devices.open("sim" + build)) {
        GoldenRunner runner = new GoldenRunner(Duration.ofMinutes(2), true);
        for (GoldenProgram g : GoldenSet.bundled()) {
          GoldenRunner.Outcome o = runner.run(d, g);
          System.out.println("rtl fixed" + build + ": " + o.line());
          if (o.verdict() == GoldenRunner.Verdict.PASS) {
            passes.merge(g.name(), 1, Integer::sum);
          } else if (!skippedForTheOtherBuild(o)) {
            failures.add("sim" + build + ": " + o.line());
          }
        }
      }
    }
    assertEquals(List.of(), failures);
    for (GoldenProgram g : GoldenSet.bundled()) {
      int want = g.requires().containsKey(Param.VECTOR_UNIT) ? 1 : 2;
      assertEquals(want, passes.getOrDefault(g.name(), 0), g.name() + ": builds passed");
    }
  }

  @Test
  void everyGoldenProgramIsRightAndNearTheModelWithTheHbmModel() {
    List<String> failures = new ArrayList<>();
    List<String> outside = new ArrayList<>();
    double worst = 0;
    int runs = 0;
    for (String build : BUILDS) {
      try (Device d = Devices.open("sim:MEM=hbm" + build.replace(':', ','))) {
        GoldenRunner runner = new GoldenRunner(Duration.ofMinutes(2), false);
        for (GoldenProgram g : GoldenSet.bundled()) {
          GoldenRunner.Outcome o = runner.run(d, g);
          if (skippedForTheOtherBuild(o)) {
            continue;
          }
          if (o.verdict() != GoldenRunner.Verdict.PASS) {
            failures.add(o.line());
            continue;
          }
          runs++;
          long model = g.expectedCounters().get(Counter.CYCLES);
          double off = Math.abs(o.cycles() - model) / (double) model;
          worst = Math.max(worst, off);
          System.out.printf("rtl hbm%s: %-28s model %8d rtl %8d  %+6.2f%%%n", build, g.name(),
              model, o.cycles(), 100.0 * (o.cycles() - model) / model);
          if (!HbmBound.within(model, o.cycles())) {
            outside.add(g.name() + build + ": rtl " + o.cycles() + " model " + model);
          }
        }
      }
    }
    System.out.printf("rtl hbm: worst difference from the timing model %.2f%% over %d runs%n",
        100 * worst, runs);
    assertEquals(List.of(), failures);
    assertEquals(List.of(), outside, "cycles not " + HbmBound.describe());
    assertTrue(runs > GoldenSet.bundled().size(), runs + " runs");
  }
}
