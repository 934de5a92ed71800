package dev.systole.host.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.driver.Device;
import dev.systole.driver.Devices;
import dev.systole.host.compile.GemmLayer;
import dev.systole.host.compile.LayerGraph;
import dev.systole.host.compile.Requant;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class SessionTest {
  static GemmLayer layer(Random r, int k, int n, boolean requant) {
    byte[] w = new byte[k * n];
    r.nextBytes(w);
    int[] bias = new int[n];
    for (int j = 0; j < n; j++) {
      bias[j] = r.nextInt(2001) - 1000;
    }
    Requant q = requant ? Requant.uniform(n, (1 << 30) + r.nextInt(1 << 29), 38, -3, true)
        : null;
    return new GemmLayer(k, n, w, bias, q);
  }

  static Tensor input(Random r, int m, int k) {
    byte[] x = new byte[m * k];
    r.nextBytes(x);
    return Tensor.ofInt8(x, m, k);
  }

  /** Plain Java for one raw or requantized layer chain. */
  static int[] reference(LayerGraph g, Tensor x) {
    int m = (int) x.dim(0);
    int[] cur = new int[(int) x.numel()];
    for (int i = 0; i < cur.length; i++) {
      cur[i] = x.getInt8(i);
    }
    int width = g.inFeatures();
    for (GemmLayer l : g.layers()) {
      int[] next = new int[m * l.outFeatures()];
      for (int i = 0; i < m; i++) {
        for (int j = 0; j < l.outFeatures(); j++) {
          int s = 0;
          for (int k = 0; k < width; k++) {
            s += cur[i * width + k] * l.weights()[k * l.outFeatures() + j];
          }
          next[i * l.outFeatures() + j] = l.int8Output()
              ? dev.systole.driver.contract.Arithmetic.requantize(s, l.bias()[j],
                  l.requant().multiplier()[j], l.requant().shift()[j], l.requant().zeroPoint(),
                  l.requant().relu())
              : s + (l.bias() == null ? 0 : l.bias()[j]);
        }
      }
      cur = next;
      width = l.outFeatures();
    }
    return cur;
  }

  static void assertMatches(LayerGraph g, Tensor x, Tensor y) {
    int[] want = reference(g, x);
    assertEquals(g.last().int8Output() ? DType.INT8 : DType.INT32, y.dtype());
    assertEquals(x.dim(0), y.dim(0));
    assertEquals(g.outFeatures(), y.dim(1));
    for (int i = 0; i < want.length; i++) {
      int got = y.dtype() == DType.INT8 ? y.getInt8(i) : y.getInt32(i);
      if (got != want[i]) {
        assertEquals(want[i], got, "element " + i);
      }
    }
  }

  @Test
  void runsGraphsAndCachesPrograms() {
    Random r = new Random(1);
    try (Session s = Session.open("emulator", line -> { })) {
      LayerGraph g = LayerGraph.of(layer(r, 70, 40, true), layer(r, 40, 9, false));
      LoadedGraph loaded = s.load(g);
      Tensor x = input(r, 33, 70);
      assertMatches(g, x, s.run(loaded, x));
      var program = loaded.program(33);
      Tensor x2 = input(r, 33, 70);
      assertMatches(g, x2, s.run(loaded, x2));
      assertSame(program, loaded.program(33), "a second run of the same shape compiles nothing");
      assertEquals(1, loaded.cachedPrograms());
    }
  }

  @Test
  void largeBatchesAreSplitAcrossRuns() {
    Random r = new Random(2);
    try (Device d = Devices.open("emulator"); Session s = Session.on(d, 7,
        Duration.ofSeconds(30))) {
      LayerGraph g = LayerGraph.of(layer(r, 20, 30, true));
      LoadedGraph loaded = s.load(g);
      Tensor x = input(r, 30, 20);
      Session.Result res = s.execute(loaded, x);
      assertEquals(5, res.runs());
      assertMatches(g, x, res.output());
      assertEquals(2, loaded.cachedPrograms(), "runs of 7 rows and one of 2");
    }
  }

  @Test
  void concurrentRunsNeverMixResults() throws Exception {
    Random r = new Random(3);
    try (Session s = Session.open("emulator", line -> { })) {
      LayerGraph g = LayerGraph.of(layer(r, 48, 24, false));
      LoadedGraph loaded = s.load(g);
      ExecutorService pool = Executors.newFixedThreadPool(6);
      try {
        List<Tensor> inputs = new ArrayList<>();
        List<Future<Tensor>> outputs = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
          Tensor x = input(r, 1 + (i % 5) * 7, 48);
          inputs.add(x);
          outputs.add(i % 2 == 0 ? pool.submit(() -> s.run(loaded, x)) : s.submit(loaded, x));
        }
        for (int i = 0; i < inputs.size(); i++) {
          assertMatches(g, inputs.get(i), outputs.get(i).get());
        }
      } finally {
        pool.shutdown();
      }
    }
  }

  @Test
  void wrongInputsAreRefusedWithBothShapes() {
    Random r = new Random(4);
    try (Session s = Session.open("emulator", line -> { })) {
      LoadedGraph loaded = s.load(LayerGraph.of(layer(r, 10, 4, false)));
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> s.run(loaded, input(r, 3, 11)));
      assertEquals("input is int8 3x11 (expected int8 Nx10)", e.getMessage());
      e = assertThrows(IllegalArgumentException.class,
          () -> s.run(loaded, Tensor.ofInt32(new int[10], 1, 10)));
      assertTrue(e.getMessage().startsWith("input is int32 1x10"), e.getMessage());
      CompletableFuture<Tensor> f = s.submit(loaded, input(r, 2, 9));
      assertTrue(assertThrows(Exception.class, f::join).getCause()
          instanceof IllegalArgumentException);
    }
  }

  @Test
  void aModelThatDoesNotFitSaysHowMuchItNeeds() {
    Random r = new Random(5);
    try (Session s = Session.open("emulator:HBM_MB=1", line -> { })) {
      GemmLayer big = new GemmLayer(1024, 1100, new byte[1024 * 1100], null, null);
      OutOfDeviceMemoryException e = assertThrows(OutOfDeviceMemoryException.class,
          () -> s.load(LayerGraph.of(big)));
      assertTrue(e.getMessage().contains("weights of layer 0 needs 1.08 MiB but 1.00 MiB of"
          + " 1.00 MiB is free"), e.getMessage());
      assertEquals(0, s.memory().usedBytes(), "nothing is left behind");
      LoadedGraph small = s.load(LayerGraph.of(layer(r, 8, 8, false)));
      Tensor x = input(r, 2, 8);
      assertMatches(small.graph(), x, s.run(small, x));
    }
  }

  @Test
  void closedSessionsRefuseWorkAndFreeEverything() {
    Random r = new Random(6);
    Session s = Session.open("emulator", line -> { });
    LoadedGraph loaded = s.load(LayerGraph.of(layer(r, 8, 8, true)));
    s.run(loaded, input(r, 4, 8));
    s.close();
    assertEquals(0, s.memory().usedBytes());
    assertThrows(IllegalStateException.class, () -> s.run(loaded, input(r, 4, 8)));
  }
}
