package dev.systole.host.cli;

import dev.systole.driver.contract.DeviceParams;
import dev.systole.host.run.ModelRunner;
import java.io.PrintWriter;
import java.util.Locale;

/** The per-layer tables of {@code run --profile}, and what a runner keeps loaded. */
final class Profiles {
  private Profiles() {}

  static void print(PrintWriter out, ModelRunner.Result r, DeviceParams p) {
    out.printf(Locale.ROOT, "  %-24s %-14s %8s %14s %14s %11s%n", "device layer", "op",
        "program", "cycles", "estimated", "utilization");
    for (ModelRunner.LayerProfile l : r.layers()) {
      double util = l.measured() == 0 ? 0 : l.usefulMacs() / ((double) l.measured()
          * p.macsPerCycle());
      out.printf(Locale.ROOT, "  %-24s %-14s %8d %,14d %,14d %10.1f%%%n", l.node().name(),
          l.node().opType(), l.program(), l.measured(), l.estimated(), util * 100);
    }
    long measured = r.layers().stream().mapToLong(ModelRunner.LayerProfile::measured).sum();
    double util = measured == 0 ? 0 : r.usefulMacs() / ((double) measured * p.macsPerCycle());
    out.printf(Locale.ROOT, "  %-24s %-14s %8s %,14d %14s %10.1f%%%n", "total", "", "",
        measured, "", util * 100);
    if (!r.cpu().isEmpty()) {
      out.printf(Locale.ROOT, "  %-24s %-30s %14s%n", "cpu segment", "nodes", "host time");
      int index = 0;
      for (ModelRunner.CpuTime c : r.cpu()) {
        String first = c.nodes().get(0).name();
        String nodes = c.nodes().size() == 1 ? first + " (" + c.nodes().get(0).opType() + ")"
            : first + " and " + (c.nodes().size() - 1) + " more";
        out.printf(Locale.ROOT, "  %-24s %-30s %11.3f ms%n", "#" + index++, nodes,
            c.nanos() / 1e6);
      }
    }
    out.printf(Locale.ROOT, "  host time %.2f ms (the profiling runs included): %.2f ms in"
        + " device programs (staging, DMA and waiting included), %.2f ms on the cpu%n", r.hostNanos() / 1e6,
        r.deviceNanos() / 1e6, r.cpu().stream().mapToLong(ModelRunner.CpuTime::nanos).sum()
        / 1e6);
  }

  /**
   * What {@code runner} keeps loaded after its runs: a line per plan (set of input shapes), the
   * least recently run first, with the session's limit.
   */
  static void printLoaded(PrintWriter out, ModelRunner runner) {
    var loaded = runner.loaded();
    out.printf(Locale.ROOT, "  kept loaded        %d plan%s (at most %d, least recently run"
        + " first)%n", loaded.size(), loaded.size() == 1 ? "" : "s",
        runner.session().programLimit());
    for (ModelRunner.LoadedPlan l : loaded) {
      out.printf(Locale.ROOT, "    %s%n", l.describe());
    }
  }
}
