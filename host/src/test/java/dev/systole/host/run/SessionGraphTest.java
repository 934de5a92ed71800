package dev.systole.host.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.driver.Device;
import dev.systole.driver.Devices;
import dev.systole.host.compile.DeviceGraph;
import dev.systole.host.compile.DeviceGraph.Node;
import dev.systole.host.compile.DeviceGraph.Shape;
import dev.systole.host.compile.GraphCompiler;
import dev.systole.host.compile.GraphReference;
import dev.systole.host.compile.MaxPoolLayer;
import dev.systole.host.compile.RandomLayers;
import dev.systole.host.compile.Window;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Device graphs through the Session on the emulator: outputs, batching, profiles, errors. */
class SessionGraphTest {
  static Map<String, Tensor> inputs(Random r, DeviceGraph g, int batch) {
    Map<String, Tensor> in = new HashMap<>();
    for (Node n : g.inputs()) {
      Shape s = n.shape();
      in.put(n.name(), Tensor.ofInt8(RandomLayers.bytes(r, (int) (batch * s.size())), batch,
          s.height(), s.width(), s.channels()));
    }
    return in;
  }

  static void assertMatches(DeviceGraph g, Map<String, Tensor> in, Map<String, Tensor> out) {
    int batch = (int) in.values().iterator().next().dim(0);
    Map<String, byte[]> bytes = new HashMap<>();
    in.forEach((k, t) -> {
      byte[] b = new byte[(int) t.numel()];
      t.data().duplicate().get(b);
      bytes.put(k, b);
    });
    Map<String, int[]> want = GraphReference.run(g, batch, bytes);
    assertEquals(g.outputs().stream().map(Node::name).toList(), List.copyOf(out.keySet()));
    for (Node o : g.outputs()) {
      Tensor t = out.get(o.name());
      assertEquals(o.int8Output() ? DType.INT8 : DType.INT32, t.dtype(), o.name());
      assertEquals(o.flat() ? 2 : 4, t.rank(), o.name());
      assertEquals(batch, t.dim(0), o.name());
      int[] expected = want.get(o.name());
      assertEquals(expected.length, t.numel(), o.name());
      for (int i = 0; i < expected.length; i++) {
        int got = o.int8Output() ? t.getInt8(i) : t.getInt32(i);
        if (got != expected[i]) {
          assertEquals(expected[i], got, o.name() + " element " + i);
        }
      }
    }
  }

  @Test
  void residualNetworksRunExactlyAndCachePrograms() {
    Random r = new Random(1);
    DeviceGraph g = RandomLayers.residualNetwork(r, new Shape(10, 10, 3), 17);
    try (Session s = Session.open("emulator", line -> { })) {
      LoadedDeviceGraph loaded = s.load(g);
      Map<String, Tensor> x = inputs(r, g, 4);
      assertMatches(g, x, s.run(loaded, x));
      GraphCompiler.Program program = loaded.program(4);
      Map<String, Tensor> x2 = inputs(r, g, 4);
      assertMatches(g, x2, s.run(loaded, x2));
      assertSame(program, loaded.program(4), "a second run of the same batch compiles nothing");
      assertEquals(1, loaded.cachedPrograms());
    }
  }

  @Test
  void largeBatchesAreSplitAcrossRuns() {
    Random r = new Random(2);
    DeviceGraph g = RandomLayers.residualNetwork(r, new Shape(6, 6, 5), 8);
    try (Device d = Devices.open("emulator");
        Session s = Session.on(d, 2, Duration.ofSeconds(60))) {
      LoadedDeviceGraph loaded = s.load(g);
      assertEquals(2, loaded.batchPerRun());
      Map<String, Tensor> x = inputs(r, g, 5);
      Session.GraphResult res = s.execute(loaded, x);
      assertEquals(3, res.runs());
      assertMatches(g, x, res.outputs());
      assertEquals(2, loaded.cachedPrograms(), "runs of 2 items and one of 1");
    }
  }

  @Test
  void profilesMeasureEachLayerAsTheTimingModelPredicts() {
    Random r = new Random(3);
    DeviceGraph g = RandomLayers.residualNetwork(r, new Shape(12, 12, 8), 16);
    try (Session s = Session.open("emulator", line -> { })) {
      LoadedDeviceGraph loaded = s.load(g);
      Map<String, Tensor> x = inputs(r, g, 3);
      Session.GraphResult res = s.profile(loaded, x);
      assertMatches(g, x, res.outputs());
      assertEquals(g.layers().size(), res.layers().size());
      long sum = 0;
      for (Session.LayerCycles l : res.layers()) {
        assertEquals(l.estimated(), l.measured(), l.node().name());
        assertTrue(l.measured() > 0, l.node().name());
        sum += l.measured();
      }
      assertEquals(res.deviceCycles(), sum, "layers add up to the program");
      assertEquals(loaded.program(3).estimatedCycles(), res.deviceCycles());
      assertTrue(res.layers().get(1).utilization(s.device().info().params()) > 0.2,
          "the 16->16 conv keeps the array busy");
      assertEquals(List.of(), s.execute(loaded, x).layers(), "no profile unless asked");
    }
  }

  @Test
  void flatInputsAndNamedInputsAreChecked() {
    Random r = new Random(4);
    DeviceGraph.Builder b = DeviceGraph.builder();
    Node a = b.input("a", Shape.features(20), 3);
    Node c = b.input("c", Shape.features(20), -7);
    Node sum = b.add("sum", a, c, RandomLayers.add(r));
    b.output(b.gemm("fc", sum, RandomLayers.gemm(r, 20, 6, true)));
    DeviceGraph g = b.build();
    try (Session s = Session.open("emulator", line -> { })) {
      LoadedDeviceGraph loaded = s.load(g);
      Map<String, Tensor> x = Map.of("a", Tensor.ofInt8(RandomLayers.bytes(r, 60), 3, 20),
          "c", Tensor.ofInt8(RandomLayers.bytes(r, 60), 3, 20));
      assertMatches(g, x, s.run(loaded, x));
      assertEquals("missing input 'c' (expected [a, c])", assertThrows(
          IllegalArgumentException.class, () -> s.run(loaded, Map.of("a", x.get("a"))))
          .getMessage());
      assertEquals("unknown input 'b' (expected [a, c])", assertThrows(
          IllegalArgumentException.class, () -> s.run(loaded, Map.of("a", x.get("a"), "b",
              x.get("c")))).getMessage());
      assertEquals("input 'c' is int8 3x21 (expected int8 Nx1x1x20 or Nx20, N >= 1)",
          assertThrows(IllegalArgumentException.class, () -> s.run(loaded, Map.of("a",
              x.get("a"), "c", Tensor.ofInt8(new byte[63], 3, 21)))).getMessage());
      assertEquals("input 'c' has a batch of 2 but 'a' has 3 (expected the same batch for every"
          + " input)", assertThrows(IllegalArgumentException.class, () -> s.run(loaded,
              Map.of("a", x.get("a"), "c", Tensor.ofInt8(new byte[40], 2, 20)))).getMessage());
    }
  }

  @Test
  void graphsTheDeviceCannotHoldAreRefusedAtLoad() {
    DeviceGraph.Builder b = DeviceGraph.builder();
    b.output(b.maxPool("pool", b.input("x", new Shape(20, 20, 4), 0),
        new MaxPoolLayer(Window.of(9, 1, 0), false)));
    DeviceGraph g = b.build();
    try (Session s = Session.open("emulator:ABUF_ROWS=128", line -> { })) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> s.load(g));
      assertEquals("maxpool 'pool': a 9x9 window needs 162 ABUF rows but the device has 128"
          + " (expected a kernel area of at most ABUF_ROWS / 2 = 64)", e.getMessage());
      assertEquals(0, s.memory().usedBytes());
    }
    Random r = new Random(5);
    try (Session s = Session.open("emulator:HBM_MB=1", line -> { })) {
      DeviceGraph big = RandomLayers.residualNetwork(r, new Shape(64, 64, 3), 16);
      LoadedDeviceGraph loaded = s.load(big);
      OutOfDeviceMemoryException e = assertThrows(OutOfDeviceMemoryException.class,
          () -> s.run(loaded, inputs(r, big, 20)));
      assertTrue(e.getMessage().contains("for a batch of 20 needs"), e.getMessage());
      s.unload(loaded);
      assertEquals(0, s.memory().usedBytes(), "nothing is left behind");
    }
  }
}
