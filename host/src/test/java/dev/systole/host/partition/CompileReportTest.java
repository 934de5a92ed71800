package dev.systole.host.partition;

import dev.systole.host.run.Model;
import dev.systole.host.quantize.Calibration;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.driver.contract.DeviceParams;
import dev.systole.host.graph.Graph;
import dev.systole.host.quantize.RangeObserver;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The compile report's summary and its reasons for the nodes left on the CPU. */
class CompileReportTest {
  private static final DeviceParams PARAMS = DeviceParams.defaults();

  /**
   * conv1 -> Hardmax (no device op) -> conv2 -> Hardmax: two device programs, the second
   * reading what the first computed after the host ran the Hardmax, so one round trip; the one
   * at the end runs on the host after the last program, which is no round trip.
   */
  private static Graph convErfConv(Random r) {
    return Graph.builder().name("split").input("x", DType.FLOAT32, "N", 3, 6, 6)
        .initializer("w1", ModelRunnerTest.random(r, 0.3, 8, 3, 3, 3))
        .initializer("w2", ModelRunnerTest.random(r, 0.3, 4, 8, 1, 1))
        .node("Conv", "conv1", List.of("x", "w1"), List.of("c1"), ModelRunnerTest.conv(1))
        .node("Hardmax", "erf", List.of("c1"), List.of("e"), Map.of())
        .node("Conv", "conv2", List.of("e", "w2"), List.of("c2"), Map.of())
        .node("Hardmax", "sig", List.of("c2"), List.of("y"), Map.of())
        .output("y").build();
  }

  @Test
  void theSummaryCountsProgramsSegmentsRoundTripsAndMacs() {
    Random r = new Random(3);
    Graph g = convErfConv(r);
    Tensor x = ModelRunnerTest.random(r, 1, 4, 3, 6, 6);
    Model model = Model.of(g, Calibration.run(g, Map.of("x", x), RangeObserver.Method.MINMAX));
    CompileReport report = CompileReport.of(model.graph(), model.plan(Map.of("x", x), PARAMS),
        PARAMS);
    CompileReport.Summary s = report.summary();
    assertEquals(4, s.nodes());
    assertEquals(2, s.onDevice());
    assertEquals(2, s.onCpu());
    assertEquals(2, s.devicePrograms());
    assertEquals(2, s.cpuSegments(), "a Hardmax between the programs, one after them");
    assertEquals(1, s.hostRoundTrips());
    long conv1 = 4L * 8 * 6 * 6 * 3 * 3 * 3;
    long conv2 = 4L * 4 * 6 * 6 * 8;
    assertEquals(conv1 + conv2, s.macs());
    assertEquals(s.macs(), s.deviceMacs());
    assertEquals(1.0, s.deviceMacShare());
    CompileReport.Row erf = report.rows().get(1);
    assertEquals("cpu (no device op for Hardmax)", erf.where());
    assertEquals(0, erf.macs());
    assertTrue(report.rows().get(0).estimatedCycles() > 0);

    StringWriter text = new StringWriter();
    report.printTotals(new PrintWriter(text, true));
    assertTrue(text.toString().contains("4 nodes: 2 on the device in 2 programs, 0 fused into"
        + " device layers, 2 on the cpu in 2 segments"), text.toString());
    assertTrue(text.toString().contains("host round trips per inference 1; MACs on the device"
        + " 100.0 %"), text.toString());
    Map<String, Object> json = report.toMap();
    @SuppressWarnings("unchecked")
    Map<String, Object> summary = (Map<String, Object>) json.get("summary");
    assertEquals(1, summary.get("host_round_trips"));
    assertEquals(4, ((List<?>) json.get("nodes")).size());
  }

  @Test
  void aModelWhoseDeviceLayersAllReadItsInputHasNoRoundTrip() {
    Random r = new Random(4);
    Graph g = Graph.builder().name("one").input("x", DType.FLOAT32, "N", 3, 6, 6)
        .initializer("w1", ModelRunnerTest.random(r, 0.3, 8, 3, 3, 3))
        .node("Sigmoid", "pre", List.of("x"), List.of("s"), Map.of())
        .node("Conv", "conv1", List.of("s", "w1"), List.of("y"), ModelRunnerTest.conv(1))
        .output("y").build();
    Tensor x = ModelRunnerTest.random(r, 1, 2, 3, 6, 6);
    Model model = Model.of(g, Calibration.run(g, Map.of("x", x), RangeObserver.Method.MINMAX));
    CompileReport.Summary s = CompileReport.of(model.graph(), model.plan(Map.of("x", x),
        PARAMS), PARAMS).summary();
    assertEquals(1, s.devicePrograms());
    assertEquals(0, s.hostRoundTrips(), "the host prepares the input; nothing comes back");
  }
}
