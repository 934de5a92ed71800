package dev.systole.host.compile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.driver.Device;
import dev.systole.driver.Devices;
import dev.systole.driver.contract.Arithmetic;
import dev.systole.driver.contract.Counter;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.contract.Instruction;
import dev.systole.driver.contract.InstructionCheck;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Compiled GEMM programs on the emulator against a plain Java reference, for awkward shapes, for
 * chains of layers, on the default build and on builds with small buffers that force K to be
 * split and M to be cut into many blocks. A chain is compiled as the device graph it is, by the
 * compiler every graph goes through.
 */
class GemmProgramTest {
  private static final long IN = 0x100_0000L;

  static GemmLayer randomLayer(Random r, int k, int n, boolean requant, boolean bias) {
    byte[] w = new byte[k * n];
    r.nextBytes(w);
    int[] b = null;
    if (bias || requant) {
      b = new int[n];
      for (int j = 0; j < n; j++) {
        b[j] = r.nextInt(4001) - 2000;
      }
    }
    Requant q = null;
    if (requant) {
      int[] mult = new int[n];
      int[] shift = new int[n];
      for (int j = 0; j < n; j++) {
        mult[j] = (1 << 30) + r.nextInt(1 << 30);
        shift[j] = 36 + r.nextInt(6);
      }
      q = new Requant(mult, shift, r.nextInt(256) - 128, r.nextBoolean());
    }
    return new GemmLayer(k, n, w, b, q);
  }

  /** The graph on plain Java: int32 products, bias, requant with the contract's arithmetic. */
  static int[][] reference(LayerGraph g, byte[][] x) {
    int[][] cur = new int[x.length][];
    for (int i = 0; i < x.length; i++) {
      cur[i] = new int[x[i].length];
      for (int j = 0; j < x[i].length; j++) {
        cur[i][j] = x[i][j];
      }
    }
    for (GemmLayer l : g.layers()) {
      int[][] next = new int[x.length][l.outFeatures()];
      for (int i = 0; i < x.length; i++) {
        for (int j = 0; j < l.outFeatures(); j++) {
          int s = 0;
          for (int k = 0; k < l.inFeatures(); k++) {
            s += cur[i][k] * l.weights()[k * l.outFeatures() + j];
          }
          if (l.int8Output()) {
            s = Arithmetic.requantize(s, l.bias()[j], l.requant().multiplier()[j],
                l.requant().shift()[j], l.requant().zeroPoint(), l.requant().relu());
          } else if (l.bias() != null) {
            s += l.bias()[j];
          }
          next[i][j] = s;
        }
      }
      cur = next;
    }
    return cur;
  }

  private static void write(Device dev, long addr, byte[] bytes) {
    ByteBuf b = Unpooled.wrappedBuffer(bytes);
    try {
      dev.dmaWrite(addr, b);
    } finally {
      b.release();
    }
  }

  /** Places, compiles, runs and compares; returns the program. */
  static GraphCompiler.Program check(Device dev, LayerGraph g, byte[][] x, String what) {
    DeviceParams p = dev.info().params();
    int d = p.lanes();
    int m = x.length;
    DeviceGraph graph = g.deviceGraph();
    int nodes = graph.nodes().size();
    long[] outputs = new long[nodes];
    long[] weights = new long[nodes];
    long[] constants = new long[nodes];
    outputs[0] = IN;
    long next = IN + align((long) m * g.inFeatures());
    for (DeviceGraph.Node n : graph.layers()) {
      byte[] tiles = GraphCompiler.weights(n, d);
      weights[n.index()] = next;
      write(dev, next, tiles);
      next += align(tiles.length);
      constants[n.index()] = next;
      byte[] c = GraphCompiler.constants(n, d);
      if (c.length > 0) {
        write(dev, next, c);
      }
      next += align(Math.max(c.length, 1));
      outputs[n.index()] = next;
      next += align(n.outputBytes(m));
    }
    byte[] input = new byte[m * g.inFeatures()];
    for (int i = 0; i < m; i++) {
      System.arraycopy(x[i], 0, input, i * g.inFeatures(), g.inFeatures());
    }
    write(dev, IN, input);
    GraphCompiler.Program prog = GraphCompiler.compile(graph, m, p,
        new GraphCompiler.Placement(outputs, weights, constants));
    for (Instruction in : prog.instructions()) {
      assertEquals(null, InstructionCheck.check(in, p), what + ": " + in);
    }
    write(dev, 0, Instruction.encode(prog.instructions()));
    dev.run(0, prog.instructions().size(), Duration.ofSeconds(120));
    int[][] want = reference(g, x);
    int n = g.outFeatures();
    int eb = g.outputElementBytes();
    ByteBuf out = Unpooled.buffer(m * n * eb);
    try {
      dev.dmaRead(outputs[nodes - 1], out, 0, m * n * eb);
      for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
          int got = eb == 1 ? out.getByte(i * n + j) : out.getIntLE((i * n + j) * 4);
          if (got != want[i][j]) {
            assertEquals(want[i][j], got, what + ": Y[" + i + "][" + j + "]");
          }
        }
      }
    } finally {
      out.release();
    }
    return prog;
  }

  /** How the program tiled its only layer. */
  private static MatmulPlan plan(GraphCompiler.Program p) {
    return p.nodes().get(0).matmul();
  }

  private static long align(long n) {
    return (n + 4095) & ~4095L;
  }

  static byte[][] input(Random r, int m, int k) {
    byte[][] x = new byte[m][k];
    for (byte[] row : x) {
      r.nextBytes(row);
    }
    return x;
  }

  @Test
  void awkwardShapesOnTheDefaultBuild() {
    Random r = new Random(3);
    int[][] shapes = {{1, 1, 1}, {1, 300, 1}, {37, 300, 53}, {16, 16, 16}, {17, 33, 15},
        {300, 1, 1}, {5, 2000, 40}, {64, 64, 64}, {3, 17, 200}, {129, 100, 31}};
    try (Device dev = Devices.open("emulator")) {
      for (int[] s : shapes) {
        for (int mode = 0; mode < 3; mode++) {
          LayerGraph g = LayerGraph.of(randomLayer(r, s[1], s[2], mode == 2, mode == 1));
          check(dev, g, input(r, s[0], s[1]), s[0] + "x" + s[1] + "x" + s[2] + " mode " + mode);
        }
      }
    }
  }

  @Test
  void kLargerThanTheWeightBufferAndSmallBuffers() {
    Random r = new Random(4);
    try (Device dev = Devices.open("emulator:ARRAY=8,ABUF_ROWS=128,WBUF_ROWS=96,ACC_ROWS=70")) {
      for (int i = 0; i < 40; i++) {
        int m = 1 + r.nextInt(90);
        int k = 1 + r.nextInt(400);
        int n = 1 + r.nextInt(40);
        LayerGraph g = LayerGraph.of(randomLayer(r, k, n, i % 3 == 2, i % 3 == 1));
        GraphCompiler.Program p = check(dev, g, input(r, m, k), m + "x" + k + "x" + n);
        if (k > 256) {
          assertTrue(plan(p).order().splitsK(),
              "K=" + k + " must be split on this build, not " + plan(p).order());
        }
      }
    }
  }

  @Test
  void chainsOfLayersStayOnTheDevice() {
    Random r = new Random(5);
    try (Device dev = Devices.open("emulator")) {
      for (int i = 0; i < 12; i++) {
        int m = 1 + r.nextInt(70);
        int k0 = 1 + r.nextInt(90);
        int k1 = 1 + r.nextInt(50);
        int k2 = 1 + r.nextInt(40);
        int n = 1 + r.nextInt(30);
        LayerGraph g = LayerGraph.of(randomLayer(r, k0, k1, true, false),
            randomLayer(r, k1, k2, true, false), randomLayer(r, k2, n, i % 2 == 0, true));
        check(dev, g, input(r, m, k0), "chain " + i);
      }
    }
  }

  @Test
  void manyRandomShapes() {
    Random r = new Random(6);
    try (Device dev = Devices.open("emulator")) {
      for (int i = 0; i < 200; i++) {
        int m = 1 + r.nextInt(r.nextInt(5) == 0 ? 300 : 40);
        int k = 1 + r.nextInt(r.nextInt(5) == 0 ? 600 : 60);
        int n = 1 + r.nextInt(r.nextInt(5) == 0 ? 200 : 40);
        LayerGraph g = LayerGraph.of(randomLayer(r, k, n, i % 3 == 2, i % 3 == 1));
        check(dev, g, input(r, m, k), m + "x" + k + "x" + n);
      }
    }
  }

  @Test
  void theCheaperLoopOrderIsChosenAndBothAreExact() {
    Random r = new Random(8);
    try (Device dev = Devices.open("emulator")) {
      LayerGraph wide = LayerGraph.of(randomLayer(r, 512, 256, true, false));
      GraphCompiler.Program a = check(dev, wide, input(r, 300, 512), "wide");
      assertEquals(MatmulPlan.Order.ACTIVATIONS_RESIDENT, plan(a).order());
      LayerGraph fits = LayerGraph.of(randomLayer(r, 256, 256, true, false));
      GraphCompiler.Program all = check(dev, fits, input(r, 300, 256), "weights fit WBUF");
      assertEquals(MatmulPlan.Order.ALL_RESIDENT, plan(all).order());
      assertEquals(16L * 16 * 16 + 300L * 16, plan(all).loadedRows()
          - 3L * plan(all).steps(), "every weight and activation row once, and three"
          + " requant rows per n-tile of each block");
      LayerGraph tall = LayerGraph.of(randomLayer(r, 256, 16, false, true));
      GraphCompiler.Program w = check(dev, tall, input(r, 1000, 256), "tall");
      assertEquals(MatmulPlan.Order.WEIGHTS_RESIDENT, plan(w).order());
      assertEquals(16L * 16 + 1000L * 16 + 1000, plan(w).loadedRows(),
          "every weight row (16 chunks x 16), activation row (1000 x 16) and bias row once");
    }
  }

  @Test
  void utilizationOf512CubedIsAtLeastNinetyPercent() {
    Random r = new Random(7);
    try (Device dev = Devices.open("emulator")) {
      for (boolean requant : new boolean[] {false, true}) {
        LayerGraph g = LayerGraph.of(randomLayer(r, 512, 512, requant, false));
        GraphCompiler.Program p = check(dev, g, input(r, 512, 512), "512^3");
        long cycles = dev.counters().get(Counter.CYCLES);
        double utilization = p.usefulMacs() / (double) (cycles * 256);
        assertTrue(utilization >= 0.90, (requant ? "requant" : "int32") + ": utilization "
            + utilization + " over " + cycles + " cycles");
      }
    }
  }
}
