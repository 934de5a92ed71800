package dev.systole.host.model;

import dev.systole.driver.contract.DeviceParams;
import dev.systole.host.compiler.DeviceGraph;
import dev.systole.host.compiler.GraphCompiler;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.Node;
import dev.systole.host.tensor.Tensor;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;

/**
 * What {@code systole compile --report} prints: every node of a model with where it runs, the
 * shapes it reads and writes, and, for device layers, the timing model's cycles for the plan's
 * batch; then totals. The cycles come from compiling each device program for the batch against
 * the device's parameters, so they are what the emulator would count.
 */
public record CompileReport(List<Row> rows, int devicePrograms, long estimatedCycles,
    long usefulMacs, DeviceParams params) {
  /** One node: where it runs ({@code device #0}, {@code fused into conv1}, {@code cpu}). */
  public record Row(String node, String op, String where, String inputs, String outputs,
      long estimatedCycles) {}

  /** The report of {@code plan} for {@code model}'s graph on a device with {@code params}. */
  public static CompileReport of(Graph graph, Plan plan, DeviceParams params) {
    Map<Node, Long> cycles = new HashMap<>();
    long total = 0;
    long macs = 0;
    for (Plan.Segment seg : plan.segments()) {
      GraphCompiler.Program p = GraphCompiler.estimate(seg.graph(), seg.rows(), params);
      for (GraphCompiler.NodePlan np : p.nodes()) {
        Node origin = seg.origin().get(np.node());
        cycles.merge(origin, np.estimatedCycles(), Long::sum);
        total += np.estimatedCycles();
      }
      for (DeviceGraph.Node layer : seg.graph().layers()) {
        macs += ModelRunner.usefulMacs(layer, seg.rows());
      }
    }
    List<Row> rows = new ArrayList<>();
    for (Node n : graph.nodes()) {
      Plan.Placement pl = plan.placement(n);
      String where = switch (pl.where()) {
        case DEVICE -> "device #" + pl.segment() + (pl.hostPatches()
            ? ", input im2col on the host" : "");
        case FUSED -> pl.into() == null ? "fused view, device #" + pl.segment()
            : "fused into " + pl.into().name();
        case CPU -> pl.reason() == null ? "cpu" : "cpu (" + pl.reason() + ")";
      };
      rows.add(new Row(n.name(), n.opType(), where, shapes(plan, n.inputs()),
          shapes(plan, n.outputs()), cycles.getOrDefault(n, 0L)));
    }
    return new CompileReport(List.copyOf(rows), plan.deviceProgramCount(), total, macs, params);
  }

  private static String shapes(Plan plan, List<String> values) {
    StringJoiner j = new StringJoiner(", ");
    for (String v : values) {
      if (v.isEmpty()) {
        continue;
      }
      long[] s = plan.shape(v);
      j.add(s == null ? "?" : Tensor.shapeString(s));
    }
    return j.toString();
  }

  public long count(String wherePrefix) {
    return rows.stream().filter(r -> r.where().startsWith(wherePrefix)).count();
  }

  /** Estimated array utilization: useful MACs over what the array could do in the cycles. */
  public double utilization() {
    return estimatedCycles == 0 ? 0 : usefulMacs / ((double) estimatedCycles
        * params.macsPerCycle());
  }

  /** Prints the table and the totals. */
  public void print(PrintWriter out) {
    printTable(out);
    printTotals(out);
  }

  /** Prints one line per node. */
  public void printTable(PrintWriter out) {
    int wn = "node".length();
    int wo = "op".length();
    int ww = "runs on".length();
    int wi = "inputs".length();
    int wt = "outputs".length();
    for (Row r : rows) {
      wn = Math.max(wn, r.node().length());
      wo = Math.max(wo, r.op().length());
      ww = Math.max(ww, r.where().length());
      wi = Math.max(wi, r.inputs().length());
      wt = Math.max(wt, r.outputs().length());
    }
    String f = "  %-" + wn + "s  %-" + wo + "s  %-" + ww + "s  %-" + wi + "s  %-" + wt
        + "s  %12s%n";
    out.printf(Locale.ROOT, f, "node", "op", "runs on", "inputs", "outputs", "est. cycles");
    for (Row r : rows) {
      out.printf(Locale.ROOT, f, r.node(), r.op(), r.where(), r.inputs(), r.outputs(),
          r.estimatedCycles() == 0 ? "" : String.format(Locale.ROOT, "%,d",
              r.estimatedCycles()));
    }
  }

  /** Prints where the nodes run and the estimated device cycles and utilization. */
  public void printTotals(PrintWriter out) {
    out.printf(Locale.ROOT, "  %d nodes: %d on the device in %d program%s, %d fused into"
        + " device layers, %d on the cpu%n", rows.size(), count("device"), devicePrograms,
        devicePrograms == 1 ? "" : "s", count("fused"), count("cpu"));
    out.printf(Locale.ROOT, "  estimated device cycles %,d (%.3f ms at %d MHz), array"
        + " utilization %.1f %%%n", estimatedCycles, estimatedCycles * params.secondsPerCycle()
        * 1e3, params.clockKhz() / 1000, utilization() * 100);
  }
}
