package dev.systole.tests.rtl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.driver.Device;
import dev.systole.driver.Devices;
import dev.systole.driver.contract.Counter;
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
 * model's cycle counts: exactly with the fixed-latency memory, within 2% with the HBM model.
 */
class RtlGoldenTest {
  /** How far the HBM model may move a program's cycle count from the timing model's. */
  static final double HBM_BOUND = 0.02;

  @BeforeAll
  static void needVerilator() {
    Tools.require("verilator", "verilator");
  }

  @Test
  void everyGoldenProgramIsExactWithTheFixedLatencyMemory() {
    List<String> failures = new ArrayList<>();
    int passed = 0;
    try (Device d = Devices.open("sim")) {
      GoldenRunner runner = new GoldenRunner(Duration.ofMinutes(2), true);
      for (GoldenProgram g : GoldenSet.bundled()) {
        GoldenRunner.Outcome o = runner.run(d, g);
        System.out.println("rtl fixed: " + o.line());
        if (o.verdict() == GoldenRunner.Verdict.PASS) {
          passed++;
        } else {
          failures.add(o.line());
        }
      }
    }
    assertEquals(List.of(), failures);
    assertEquals(GoldenSet.bundled().size(), passed);
  }

  @Test
  void everyGoldenProgramIsRightAndWithinTheBoundWithTheHbmModel() {
    List<String> failures = new ArrayList<>();
    double worst = 0;
    try (Device d = Devices.open("sim:MEM=hbm")) {
      GoldenRunner runner = new GoldenRunner(Duration.ofMinutes(2), false);
      for (GoldenProgram g : GoldenSet.bundled()) {
        GoldenRunner.Outcome o = runner.run(d, g);
        if (o.verdict() != GoldenRunner.Verdict.PASS) {
          failures.add(o.line());
          continue;
        }
        long model = g.expectedCounters().get(Counter.CYCLES);
        double off = Math.abs(o.cycles() - model) / (double) model;
        worst = Math.max(worst, off);
        System.out.printf("rtl hbm: %-28s model %8d rtl %8d  %+6.2f%%%n", g.name(), model,
            o.cycles(), 100.0 * (o.cycles() - model) / model);
        if (off > HBM_BOUND) {
          failures.add(String.format("%s: %d cycles on the HBM model, %d in the timing model"
              + " (%.2f%% off, bound %.0f%%)", g.name(), o.cycles(), model, 100 * off,
              100 * HBM_BOUND));
        }
      }
    }
    System.out.printf("rtl hbm: worst difference from the timing model %.2f%%%n", 100 * worst);
    assertEquals(List.of(), failures);
    assertTrue(worst <= HBM_BOUND);
  }
}
