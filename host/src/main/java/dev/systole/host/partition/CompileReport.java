package dev.systole.host.partition;

import dev.systole.host.run.ModelRunner;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.host.compile.DeviceGraph;
import dev.systole.host.compile.GraphCompiler;
import dev.systole.host.graph.Graph;
import dev.systole.host.graph.Node;
import dev.systole.host.tensor.Tensor;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.StringJoiner;

/**
 * What {@code systole compile --report} prints: every node of a model with where it runs (and,
 * on the CPU, why not on the device), the shapes it reads and writes, its multiply-accumulates
 * and, for device layers, the timing model's cycles for the plan's batch; then a summary of the
 * whole model. The cycles come from compiling each device program for the batch against the
 * device's parameters, so they are what the emulator would count.
 *
 * <p>The summary is what tells an accelerator's designer how well a model maps: how many nodes
 * run where, how many device programs and CPU segments a run takes, how many times per
 * inference activations go back to the host and come in again (each a pair of PCIe transfers
 * and an idle array), and the share of the model's MACs the device does.
 */
public record CompileReport(List<Row> rows, Summary summary, DeviceParams params) {
  /**
   * One node: where it runs ({@code device #0}, {@code fused into conv1}, {@code cpu (why)}),
   * its shapes, its estimated device cycles (0 off the device) and its MACs.
   */
  public record Row(String node, String op, String where, String inputs, String outputs,
      long estimatedCycles, long macs) {}

  /**
   * The whole model: node counts by place, device programs, CPU segments, host round trips per
   * inference, MACs in all and on the device, and the device's estimated cycles with the
   * useful MACs they hold.
   */
  public record Summary(int nodes, int onDevice, int fused, int onCpu, int constant,
      int devicePrograms,
      int cpuSegments, int hostRoundTrips, long macs, long deviceMacs, long estimatedCycles,
      long usefulMacs) {
    /** The share of the model's MACs the device does, 0 to 1 (1 for a model without MACs). */
    public double deviceMacShare() {
      return macs == 0 ? 1 : deviceMacs / (double) macs;
    }
  }

  /** The report of {@code plan} for {@code model}'s graph on a device with {@code params}. */
  public static CompileReport of(Graph graph, Plan plan, DeviceParams params) {
    Map<String, Long> cycles = new HashMap<>();
    Map<String, String> epilogueOf = new HashMap<>();
    long total = 0;
    long useful = 0;
    for (Plan.Segment seg : plan.segments()) {
      GraphCompiler.Program p = GraphCompiler.estimate(seg.graph(), seg.rows(), params);
      for (GraphCompiler.NodePlan np : p.nodes()) {
        Node origin = seg.origin().get(np.node());
        cycles.merge(origin.name(), np.estimatedCycles(), Long::sum);
        if (np.fusedInto() != null) {
          epilogueOf.put(origin.name(), seg.origin().get(np.fusedInto()).name());
        }
        total += np.estimatedCycles();
      }
      for (DeviceGraph.Node layer : seg.graph().layers()) {
        useful += Macs.useful(layer, seg.rows());
      }
    }
    List<Row> rows = new ArrayList<>();
    long macs = 0;
    long deviceMacs = 0;
    int[] counts = new int[Plan.Where.values().length];
    for (Node n : graph.nodes()) {
      Plan.Placement pl = plan.placement(n);
      String where = switch (pl.where()) {
        case DEVICE -> "device #" + pl.segment() + (pl.hostPatches()
            ? ", input im2col on the host" : "") + (epilogueOf.containsKey(n.name())
            ? ", in the epilogue of " + epilogueOf.get(n.name()) : "");
        case FUSED -> pl.into() == null ? "fused view, device #" + pl.segment()
            : "fused into " + pl.into().name();
        case CPU -> "cpu (" + (pl.reason() != null ? pl.reason() : "no device op for "
            + (n.domain().isEmpty() ? "" : n.domain() + ".") + n.opType()) + ")";
        case CONSTANT -> "constant for these input shapes";
      };
      counts[pl.where().ordinal()]++;
      long m = Macs.of(n, plan.shapes());
      macs += m;
      deviceMacs += pl.where() == Plan.Where.DEVICE ? m : 0;
      rows.add(new Row(n.name(), n.opType(), where, shapes(plan, n.inputs()),
          shapes(plan, n.outputs()), cycles.getOrDefault(n.name(), 0L), m));
    }
    Summary summary = new Summary(rows.size(), counts[0], counts[1], counts[2], counts[3],
        plan.deviceProgramCount(), plan.cpuSegmentCount(), roundTrips(graph, plan), macs,
        deviceMacs, total, useful);
    return new CompileReport(List.copyOf(rows), summary, params);
  }

  /**
   * Device programs that read a value computed from an earlier device program's output (on
   * the host, or handed back as it is): each means activations left the device and came in
   * again. Inputs prepared on the CPU from the model's own inputs do not count.
   */
  private static int roundTrips(Graph graph, Plan plan) {
    Set<String> fromDevice = new HashSet<>();
    int trips = 0;
    for (Plan.Step step : plan.steps()) {
      if (step instanceof Plan.Segment seg) {
        if (seg.imports().stream().anyMatch(imp -> fromDevice.contains(imp.value()))) {
          trips++;
        }
        seg.exports().forEach(exp -> fromDevice.add(exp.value()));
      } else if (step instanceof Plan.CpuSegment c) {
        if (c.inputs().stream().anyMatch(fromDevice::contains)) {
          fromDevice.addAll(c.outputs());
        }
      }
    }
    return trips;
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

  public int devicePrograms() {
    return summary.devicePrograms();
  }

  public long estimatedCycles() {
    return summary.estimatedCycles();
  }

  public long usefulMacs() {
    return summary.usefulMacs();
  }

  /** Estimated array utilization: useful MACs over what the array could do in the cycles. */
  public double utilization() {
    long c = summary.estimatedCycles();
    return c == 0 ? 0 : summary.usefulMacs() / ((double) c * params.macsPerCycle());
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

  /** Prints the summary: where the nodes run, round trips, MACs, cycles and utilization. */
  public void printTotals(PrintWriter out) {
    Summary s = summary;
    out.printf(Locale.ROOT, "  %d nodes: %d on the device in %d program%s, %d fused into"
        + " device layers, %d on the cpu in %d segment%s%n", s.nodes(), s.onDevice(),
        s.devicePrograms(), s.devicePrograms() == 1 ? "" : "s", s.fused(), s.onCpu(),
        s.cpuSegments(), s.cpuSegments() == 1 ? "" : "s");
    if (s.constant() > 0) {
      out.printf(Locale.ROOT, "  %d computed once for these input shapes (shape arithmetic)%n",
          s.constant());
    }
    out.printf(Locale.ROOT, "  host round trips per inference %d; MACs on the device %.1f %%"
        + " (%s of %s)%n", s.hostRoundTrips(), s.deviceMacShare() * 100, macs(s.deviceMacs()),
        macs(s.macs()));
    out.printf(Locale.ROOT, "  estimated device cycles %,d (%.3f ms at %d MHz), array"
        + " utilization %.1f %%%n", s.estimatedCycles(), s.estimatedCycles()
        * params.secondsPerCycle() * 1e3, params.clockKhz() / 1000, utilization() * 100);
  }

  private static String macs(long m) {
    return m >= 1e9 ? String.format(Locale.ROOT, "%.2f GMAC", m / 1e9)
        : m >= 1e6 ? String.format(Locale.ROOT, "%.2f MMAC", m / 1e6)
        : String.format(Locale.ROOT, "%,d MAC", m);
  }

  /**
   * The report as ordered maps and lists, for JSON: {@code nodes} (one map per node) and
   * {@code summary}.
   */
  public Map<String, Object> toMap() {
    List<Object> nodes = new ArrayList<>();
    for (Row r : rows) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", r.node());
      m.put("op", r.op());
      m.put("runs_on", r.where());
      m.put("inputs", r.inputs());
      m.put("outputs", r.outputs());
      m.put("estimated_cycles", r.estimatedCycles());
      m.put("macs", r.macs());
      nodes.add(m);
    }
    Summary s = summary;
    Map<String, Object> sum = new LinkedHashMap<>();
    sum.put("nodes", s.nodes());
    sum.put("on_device", s.onDevice());
    sum.put("fused", s.fused());
    sum.put("on_cpu", s.onCpu());
    sum.put("constant", s.constant());
    sum.put("device_programs", s.devicePrograms());
    sum.put("cpu_segments", s.cpuSegments());
    sum.put("host_round_trips", s.hostRoundTrips());
    sum.put("macs", s.macs());
    sum.put("device_macs", s.deviceMacs());
    sum.put("device_mac_share", s.deviceMacShare());
    sum.put("estimated_cycles", s.estimatedCycles());
    sum.put("estimated_ms", s.estimatedCycles() * params.secondsPerCycle() * 1e3);
    sum.put("array_utilization", utilization());
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("nodes", nodes);
    out.put("summary", sum);
    return out;
  }
}
