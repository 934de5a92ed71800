package dev.systole.tests.rtl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.systole.host.compile.GemmLayer;
import dev.systole.host.compile.LayerGraph;
import dev.systole.host.compile.Requant;
import dev.systole.host.run.LoadedGraph;
import dev.systole.host.run.Session;
import dev.systole.host.tensor.Tensor;
import dev.systole.testing.Tools;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.BiPredicate;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * GEMMs of many shapes through the Session API on the RTL sim board and on the emulator: the same
 * bytes, and the emulator's timing model predicts the RTL's cycles exactly with the fixed-latency
 * memory. With the HBM model the bytes are the same for every shape, and the cycles are within
 * {@link HbmBound} of the model: 2% for runs long enough to average out the memory's row hits,
 * misses and refreshes.
 */
class RtlGemmTest {
  /** The emulator of the build the sim board has by default, with the VECTOR unit. */
  static final String SAME_BUILD = "emulator";

  private static final int[][] FIXED = {{1, 1, 1}, {16, 16, 16}, {17, 17, 17}, {1, 300, 1},
      {15, 1, 33}, {2, 31, 100}, {33, 16, 16}, {64, 48, 40}, {300, 5, 7}, {3, 500, 20},
      {129, 3, 65}, {128, 128, 128}, {40, 200, 60}};

  @BeforeAll
  static void needVerilator() {
    Tools.require("verilator", "verilator");
  }

  record Case(int m, int k, int n, int mode, long seed) {
    String label() {
      return m + "x" + k + "x" + n + (mode == 0 ? " int32" : mode == 1 ? " bias" : " requant");
    }
  }

  static List<Case> sweep(int random, long seed) {
    Random r = new Random(seed);
    List<Case> cases = new ArrayList<>();
    for (int[] s : FIXED) {
      cases.add(new Case(s[0], s[1], s[2], cases.size() % 3, r.nextLong()));
    }
    for (int i = 0; i < random; i++) {
      int m = 1 + r.nextInt(r.nextInt(5) == 0 ? 200 : 48);
      int k = 1 + r.nextInt(r.nextInt(5) == 0 ? 300 : 64);
      int n = 1 + r.nextInt(r.nextInt(5) == 0 ? 100 : 48);
      cases.add(new Case(m, k, n, i % 3, r.nextLong()));
    }
    return cases;
  }

  static LayerGraph graph(Case c, Random r) {
    byte[] w = new byte[c.k() * c.n()];
    r.nextBytes(w);
    int[] bias = null;
    if (c.mode() > 0) {
      bias = new int[c.n()];
      for (int j = 0; j < c.n(); j++) {
        bias[j] = r.nextInt(200_001) - 100_000;
      }
    }
    Requant q = null;
    if (c.mode() == 2) {
      int[] mult = new int[c.n()];
      int[] shift = new int[c.n()];
      for (int j = 0; j < c.n(); j++) {
        mult[j] = 1 + r.nextInt(Integer.MAX_VALUE);
        shift[j] = 30 + r.nextInt(14);
      }
      q = new Requant(mult, shift, r.nextInt(256) - 128, r.nextBoolean());
    }
    return LayerGraph.of(new GemmLayer(c.k(), c.n(), w, bias, q));
  }

  static Session.Result run(Session s, LayerGraph g, byte[] x, int m, int k) {
    LoadedGraph loaded = s.load(g);
    try {
      return s.execute(loaded, Tensor.ofInt8(x, m, k));
    } finally {
      s.unload(loaded);
    }
  }

  /**
   * Runs the sweep on {@code device} and the emulator, failing on any case whose cycles (model,
   * rtl) are not {@code ok}; returns the worst relative cycle gap.
   */
  static double compare(String device, List<Case> cases, BiPredicate<Long, Long> ok) {
    double worst = 0;
    List<String> off = new ArrayList<>();
    try (Session rtl = Session.open(device, line -> { });
        Session emu = Session.open(RtlGemmTest.SAME_BUILD, line -> { })) {
      for (Case c : cases) {
        Random r = new Random(c.seed());
        LayerGraph g = graph(c, r);
        byte[] x = new byte[c.m() * c.k()];
        r.nextBytes(x);
        Session.Result want = run(emu, g, x, c.m(), c.k());
        Session.Result got = run(rtl, g, x, c.m(), c.k());
        assertEquals(want.output(), got.output(), c.label() + ": output bytes");
        double gap = Math.abs(got.deviceCycles() - want.deviceCycles())
            / (double) want.deviceCycles();
        worst = Math.max(worst, gap);
        System.out.printf("%s %-22s model %9d rtl %9d %s%n", device, c.label(),
            want.deviceCycles(), got.deviceCycles(), got.deviceCycles() == want.deviceCycles()
                ? "exact" : String.format("%+.2f%%", 100.0 * (got.deviceCycles()
                    - want.deviceCycles()) / want.deviceCycles()));
        if (!ok.test(want.deviceCycles(), got.deviceCycles())) {
          off.add(c.label() + ": rtl " + got.deviceCycles() + " model " + want.deviceCycles());
        }
      }
    }
    assertEquals(List.of(), off, "cycle counts off the timing model");
    return worst;
  }

  @Test
  void manyShapesMatchTheEmulatorByteForByteAndCycleForCycle() {
    List<Case> cases = sweep(40, 5);
    double worst = compare("sim", cases, Long::equals);
    assertEquals(0.0, worst);
  }

  @Test
  void withTheHbmModelEveryShapeGivesTheSameBytesAndCyclesNearTheModel() {
    List<Case> cases = new ArrayList<>(sweep(12, 6));
    cases.add(new Case(128, 128, 128, 0, 1));
    cases.add(new Case(256, 256, 128, 2, 2));
    double worst = compare("sim:MEM=hbm", cases, HbmBound::within);
    System.out.printf("sim:MEM=hbm worst gap %.2f%% over %d shapes of the sweep, each %s%n",
        100 * worst, cases.size(), HbmBound.describe());
  }

  /** The figure the timing model exists for: a large, compute-bound GEMM on realistic HBM. */
  @Test
  void aLargeGemmOnTheHbmModelIsWithinTwoPercentOfTheModel() {
    double worst = compare("sim:MEM=hbm", List.of(new Case(512, 512, 512, 2, 7)),
        (model, rtl) -> Math.abs(rtl - model) <= 0.02 * model);
    System.out.printf("sim:MEM=hbm 512x512x512: %.2f%% from the timing model%n", 100 * worst);
  }
}
