package dev.systole.host.compile;

import static dev.systole.host.compile.RandomLayers.add;
import static dev.systole.host.compile.RandomLayers.bytes;
import static dev.systole.host.compile.RandomLayers.conv;
import static dev.systole.host.compile.RandomLayers.residualNetwork;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.driver.Device;
import dev.systole.driver.Devices;
import dev.systole.driver.contract.Counter;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.contract.Instruction;
import dev.systole.driver.contract.InstructionCheck;
import dev.systole.driver.timing.OrderingCheck;
import dev.systole.host.compile.DeviceGraph.Node;
import dev.systole.host.compile.DeviceGraph.Shape;
import dev.systole.host.quantize.FixedPoint;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Device graphs compiled and run on the emulator, every node's output compared byte for byte
 * with {@link GraphReference}, and the run's cycles with the timing model's estimate.
 */
class GraphCompilerTest {
  private static long align(long n) {
    return (n + 4095) & ~4095L;
  }

  private static void write(Device dev, long addr, byte[] bytes) {
    if (bytes.length == 0) {
      return;
    }
    ByteBuf b = Unpooled.wrappedBuffer(bytes);
    try {
      dev.dmaWrite(addr, b);
    } finally {
      b.release();
    }
  }

  /**
   * Places the graph from card address 1 MiB + {@code skew} (a multiple of 32: the timing model
   * must not care), runs it on random inputs and checks every node; returns the program.
   */
  static GraphCompiler.Program check(Device dev, DeviceGraph g, int batch, Random r,
      String what) {
    DeviceParams p = dev.info().params();
    int d = p.lanes();
    int n = g.nodes().size();
    long[] outputs = new long[n];
    long[] weights = new long[n];
    long[] constants = new long[n];
    long next = 0x100000 + 32L * r.nextInt(100);
    Map<String, byte[]> inputs = new HashMap<>();
    for (Node node : g.nodes()) {
      outputs[node.index()] = next;
      next = align(next + node.outputBytes(batch)) + 32L * r.nextInt(100);
      byte[] w = GraphCompiler.weights(node, d);
      weights[node.index()] = next;
      write(dev, next, w);
      next = align(next + Math.max(1, w.length));
      byte[] c = GraphCompiler.constants(node, d);
      constants[node.index()] = next;
      write(dev, next, c);
      next = align(next + Math.max(1, c.length));
      if (node.kind() == DeviceGraph.Kind.INPUT) {
        byte[] x = bytes(r, (int) node.outputBytes(batch));
        inputs.put(node.name(), x);
        write(dev, outputs[node.index()], x);
      }
    }
    GraphCompiler.Program prog = GraphCompiler.compile(g, batch, p,
        new GraphCompiler.Placement(outputs, weights, constants));
    for (Instruction in : prog.instructions()) {
      assertNull(InstructionCheck.check(in, p), what + ": " + in);
    }
    OrderingCheck.Report races = OrderingCheck.check(prog.instructions(), p);
    assertTrue(races.ok(), () -> what + ": unordered conflicts\n" + races);
    write(dev, 0, Instruction.encode(prog.instructions()));
    dev.run(0, prog.instructions().size(), Duration.ofSeconds(300));
    assertEquals(prog.estimatedCycles(), dev.counters().get(Counter.CYCLES),
        what + ": timing model against the emulator");
    Map<String, int[]> want = GraphReference.run(g, batch, inputs);
    for (GraphCompiler.NodePlan plan : prog.nodes()) {
      if (!plan.stored()) {
        continue; // an add in its epilogue took its output; the add's is checked
      }
      Node node = plan.node();
      int eb = node.int8Output() ? 1 : 4;
      int count = (int) (node.outputBytes(batch) / eb);
      ByteBuf out = Unpooled.buffer(count * eb);
      try {
        dev.dmaRead(outputs[node.index()], out, 0, count * eb);
        int[] expected = want.get(node.name());
        for (int i = 0; i < count; i++) {
          int got = eb == 1 ? out.getByte(i) : out.getIntLE(i * 4);
          if (got != expected[i]) {
            assertEquals(expected[i], got, what + ": node " + node + " element " + i);
          }
        }
      } finally {
        out.release();
      }
    }
    return prog;
  }

  static DeviceGraph single(Random r, Shape in, int zx, ConvLayer conv) {
    DeviceGraph.Builder b = DeviceGraph.builder();
    b.output(b.conv("conv", b.input("x", in, zx), conv));
    return b.build();
  }

  @Test
  void convolutionsOfAwkwardShapes() {
    Random r = new Random(1);
    // {H, W, C, OC, kernel, stride, pad, dilation}
    int[][] cases = {{8, 8, 3, 5, 3, 1, 1, 1}, {9, 7, 5, 17, 3, 2, 1, 1}, {12, 12, 17, 33, 5, 1, 2,
        1}, {14, 14, 3, 16, 7, 2, 3, 1}, {11, 13, 33, 5, 1, 1, 0, 1}, {10, 10, 5, 7, 1, 2, 0, 1},
        {9, 9, 16, 16, 3, 3, 1, 1}, {13, 11, 3, 9, 3, 1, 2, 2}, {2, 2, 5, 6, 5, 1, 2, 1},
        {1, 1, 3, 4, 3, 1, 1, 1}, {7, 7, 5, 3, 7, 1, 0, 1}, {6, 5, 4, 18, 3, 1, 0, 2}};
    try (Device dev = Devices.open("emulator")) {
      for (int[] c : cases) {
        Window w = new Window(c[4], c[4], c[5], c[5], c[6], c[6], c[6], c[6], c[7], c[7]);
        for (boolean int8 : new boolean[] {true, false}) {
          DeviceGraph g = single(r, new Shape(c[0], c[1], c[2]), r.nextInt(256) - 128,
              conv(r, c[2], c[3], w, int8));
          check(dev, g, 1 + r.nextInt(3), r, java.util.Arrays.toString(c) + (int8 ? " int8"
              : " int32"));
        }
      }
    }
  }

  @Test
  void asymmetricPadsAndRectangularKernels() {
    Random r = new Random(2);
    try (Device dev = Devices.open("emulator")) {
      for (int i = 0; i < 12; i++) {
        int kh = 1 + r.nextInt(5);
        int kw = 1 + r.nextInt(5);
        Window w = new Window(kh, kw, 1 + r.nextInt(3), 1 + r.nextInt(3), r.nextInt(kh + 1),
            r.nextInt(kw + 1), r.nextInt(kh + 1), r.nextInt(kw + 1), 1 + r.nextInt(2),
            1 + r.nextInt(2));
        int h = Math.max(1, w.reachH() - 2 + r.nextInt(12));
        int wd = Math.max(1, w.reachW() - 2 + r.nextInt(12));
        if (w.outHeight(h, false) < 1 || w.outWidth(wd, false) < 1) {
          continue;
        }
        int c = 1 + r.nextInt(40);
        DeviceGraph g = single(r, new Shape(h, wd, c), r.nextInt(256) - 128,
            conv(r, c, 1 + r.nextInt(40), w, true));
        check(dev, g, 1 + r.nextInt(3), r, "case " + i + " " + w + " on " + h + "x" + wd + "x"
            + c);
      }
    }
  }

  @Test
  void maxPooling() {
    Random r = new Random(3);
    // {H, W, C, kernel, stride, pad, dilation, ceil}
    int[][] cases = {{8, 8, 16, 2, 2, 0, 1, 0}, {9, 9, 3, 3, 2, 1, 1, 0}, {7, 11, 17, 3, 2, 1, 1,
        1}, {5, 5, 33, 2, 2, 0, 1, 1}, {6, 6, 5, 3, 1, 1, 1, 0}, {10, 9, 4, 3, 2, 0, 2, 0},
        {1, 1, 7, 3, 1, 1, 1, 0}, {4, 4, 16, 4, 4, 0, 1, 0}, {13, 13, 1, 2, 3, 1, 1, 1}};
    try (Device dev = Devices.open("emulator")) {
      for (int[] c : cases) {
        Window w = new Window(c[3], c[3], c[4], c[4], c[5], c[5], c[5], c[5], c[6], c[6]);
        DeviceGraph.Builder b = DeviceGraph.builder();
        b.output(b.maxPool("pool", b.input("x", new Shape(c[0], c[1], c[2]), 3),
            new MaxPoolLayer(w, c[7] == 1)));
        check(dev, b.build(), 1 + r.nextInt(3), r, java.util.Arrays.toString(c));
      }
    }
  }

  @Test
  void residualAdds() {
    Random r = new Random(4);
    try (Device dev = Devices.open("emulator")) {
      for (int c : new int[] {1, 3, 16, 17, 33, 64}) {
        DeviceGraph.Builder b = DeviceGraph.builder();
        Shape s = new Shape(1 + r.nextInt(9), 1 + r.nextInt(9), c);
        b.output(b.add("add", b.input("a", s, r.nextInt(256) - 128),
            b.input("b", s, r.nextInt(256) - 128), add(r)));
        check(dev, b.build(), 1 + r.nextInt(4), r, "add of " + s);
      }
    }
  }

  @Test
  void depthwiseConvolutions() {
    Random r = new Random(11);
    // {H, W, C, kernel, stride, pad, dilation}
    int[][] cases = {{8, 8, 16, 3, 1, 1, 1}, {9, 7, 5, 3, 2, 1, 1}, {12, 12, 33, 5, 1, 2, 1},
        {7, 7, 17, 3, 2, 0, 1}, {6, 5, 4, 3, 1, 2, 2}, {1, 1, 40, 3, 1, 1, 1},
        {2, 3, 16, 5, 1, 2, 1}, {14, 14, 96, 3, 2, 1, 1}};
    try (Device dev = Devices.open("emulator")) {
      for (int[] c : cases) {
        Window w = new Window(c[3], c[3], c[4], c[4], c[5], c[5], c[5], c[5], c[6], c[6]);
        ConvLayer conv = RandomLayers.conv(r, 1, c[2], w, true);
        DeviceGraph.Builder b = DeviceGraph.builder();
        b.output(b.depthwise("dw", b.input("x", new Shape(c[0], c[1], c[2]),
            r.nextInt(256) - 128), DepthwiseLayer.of(conv)));
        check(dev, b.build(), 1 + r.nextInt(3), r, java.util.Arrays.toString(c));
      }
    }
  }

  @Test
  void depthwiseTilesWhoseWindowPositionSeesOnlyPadding() {
    Random r = new Random(12);
    try (Device dev = Devices.open("emulator:ABUF_ROWS=64")) {
      // 32 ABUF rows a half: a 5x5 window leaves one pixel a tile, and the corner pixels'
      // outer positions read nothing but padding.
      Window w = Window.of(5, 1, 2);
      DeviceGraph.Builder b = DeviceGraph.builder();
      b.output(b.depthwise("dw", b.input("x", new Shape(4, 4, 20), 7),
          DepthwiseLayer.of(RandomLayers.conv(r, 1, 20, w, true))));
      check(dev, b.build(), 2, r, "5x5 over 4x4 with one-pixel tiles");
    }
  }

  @Test
  void meansOverPixels() {
    Random r = new Random(13);
    try (Device dev = Devices.open("emulator:ABUF_ROWS=256")) {
      // {H, W, C}: the larger ones need several chunks of 128 rows per channel block.
      for (int[] c : new int[][] {{1, 1, 3}, {7, 7, 1280}, {2, 2, 17}, {16, 16, 33},
          {13, 11, 16}}) {
        int pixels = c[0] * c[1];
        int[] m = {(int) Math.round((1 << 30) / (double) pixels)};
        DeviceGraph.Builder b = DeviceGraph.builder();
        b.output(b.mean("gap", b.input("x", new Shape(c[0], c[1], c[2]), r.nextInt(256) - 128),
            new MeanLayer(new Requant(m, new int[] {30}, r.nextInt(256) - 128, false))));
        check(dev, b.build(), 1 + r.nextInt(3), r, java.util.Arrays.toString(c));
      }
    }
  }

  @Test
  void tablesOfFeatureMapsAndOfGemmRows() {
    Random r = new Random(14);
    try (Device dev = Devices.open("emulator:ABUF_ROWS=128")) {
      for (int c : new int[] {1, 5, 16, 33, 100}) {
        DeviceGraph.Builder b = DeviceGraph.builder();
        Node x = b.input("x", new Shape(1 + r.nextInt(9), 1 + r.nextInt(9), c), 3);
        Node t1 = b.table("t1", x, new TableLayer(bytes(r, 256), -5));
        b.output(b.table("t2", t1, new TableLayer(bytes(r, 256), 9)));
        check(dev, b.build(), 1 + r.nextInt(3), r, "two tables over " + c + " channels");
      }
      DeviceGraph.Builder b = DeviceGraph.builder();
      Node g = b.gemm("fc", b.input("x", Shape.features(40), 0),
          RandomLayers.gemm(r, 40, 21, true));
      b.output(b.table("act", g, new TableLayer(bytes(r, 256), 0)));
      check(dev, b.build(), 3, r, "table after a GEMM");
    }
  }

  @Test
  void productsOfTheSameShapeAndPerChannel() {
    Random r = new Random(15);
    try (Device dev = Devices.open("emulator:ABUF_ROWS=128")) {
      for (int c : new int[] {1, 7, 16, 40, 100}) {
        for (boolean perChannel : new boolean[] {false, true}) {
          Shape s = new Shape(1 + r.nextInt(9), 1 + r.nextInt(9), c);
          DeviceGraph.Builder b = DeviceGraph.builder();
          Node a = b.input("a", s, r.nextInt(256) - 128);
          Node g = b.input("g", perChannel ? new Shape(1, 1, c) : s, r.nextInt(256) - 128);
          b.output(b.mul("mul", a, g, new MulLayer((1 << 30) + r.nextInt(1 << 30),
              38 + r.nextInt(3), r.nextInt(256) - 128, perChannel)));
          check(dev, b.build(), 1 + r.nextInt(3), r, (perChannel ? "per channel " : "")
              + "mul of " + s);
        }
      }
    }
  }

  @Test
  void concatenationsAndSlicesOfChannels() {
    Random r = new Random(16);
    try (Device dev = Devices.open("emulator:ABUF_ROWS=128")) {
      for (int trial = 0; trial < 6; trial++) {
        int h = 1 + r.nextInt(7);
        int w = 1 + r.nextInt(7);
        DeviceGraph.Builder b = DeviceGraph.builder();
        List<Node> ins = new ArrayList<>();
        List<byte[]> tables = new ArrayList<>();
        int parts = 1 + r.nextInt(4);
        int total = 0;
        for (int i = 0; i < parts; i++) {
          int c = 1 + r.nextInt(40);
          total += c;
          ins.add(b.input("x" + i, new Shape(h, w, c), r.nextInt(256) - 128));
          tables.add(r.nextBoolean() ? null : bytes(r, 256));
        }
        Node cat = b.concat("cat", ins, new ConcatLayer(tables, 4));
        int first = r.nextInt(total);
        int count = 1 + r.nextInt(total - first);
        b.output(cat);
        b.output(b.slice("slice", cat, new SliceLayer(first, count,
            r.nextBoolean() ? null : bytes(r, 256), -2)));
        check(dev, b.build(), 1 + r.nextInt(3), r, "concat of " + parts + ", " + total
            + " channels, slice " + first + "+" + count);
      }
    }
  }

  @Test
  void perChannelAffineMaps() {
    Random r = new Random(17);
    try (Device dev = Devices.open("emulator:ABUF_ROWS=128")) {
      for (int c : new int[] {1, 9, 16, 45}) {
        double[] pos = new double[c];
        double[] neg = new double[c];
        double[] off = new double[c];
        for (int j = 0; j < c; j++) {
          pos[j] = r.nextGaussian();
          neg[j] = r.nextBoolean() ? pos[j] : 0.1 * r.nextGaussian();
          off[j] = 20 * r.nextGaussian();
        }
        DeviceGraph.Builder b = DeviceGraph.builder();
        b.output(b.scale("bn", b.input("x", new Shape(1 + r.nextInt(6), 1 + r.nextInt(6), c),
            r.nextInt(256) - 128), ScaleLayer.of(pos, neg, off, r.nextInt(256) - 128)));
        check(dev, b.build(), 1 + r.nextInt(3), r, "scale of " + c + " channels");
      }
    }
  }

  @Test
  void layerNormalizationsOfPixelsAndRows() {
    Random r = new Random(18);
    try (Device dev = Devices.open("emulator:ABUF_ROWS=128")) {
      for (int c : new int[] {16, 48, 96}) {
        double[] gamma = new double[c];
        double[] beta = new double[c];
        for (int j = 0; j < c; j++) {
          gamma[j] = 0.5 + r.nextDouble();
          beta[j] = 0.2 * r.nextGaussian();
        }
        NormLayer norm = NormLayer.of(gamma, beta, 1e-5, 0.05, 4.0 / 127, r.nextInt(11) - 5);
        DeviceGraph.Builder b = DeviceGraph.builder();
        b.output(b.norm("ln", b.input("x", new Shape(1 + r.nextInt(5), 1 + r.nextInt(5), c),
            r.nextInt(256) - 128), norm));
        check(dev, b.build(), 1 + r.nextInt(3), r, "layer norm of " + c + " features");
        DeviceGraph.Builder rows = DeviceGraph.builder();
        Node fc = rows.gemm("fc", rows.input("x", Shape.features(24), 0),
            RandomLayers.gemm(r, 24, c, true));
        rows.output(rows.norm("ln", fc, norm));
        check(dev, rows.build(), 5, r, "layer norm of GEMM rows of " + c);
      }
    }
  }

  /**
   * Attention's two products over views of the token rows (heads of hd features side by side in
   * each token's row): Q·Kᵀ with K read transposed, scores stored token-major, a softmax of
   * each query's scores, then P·V with V's rows loaded as they are; sizes that are and are not
   * multiples of D, more rows than one block holds, on the default build and a small one.
   */
  @Test
  void attentionProductsAndSoftmaxOverViewsOfTokenRows() {
    Random r = new Random(19);
    for (String build : new String[] {"emulator", "emulator:ARRAY=8,ABUF_ROWS=96"}) {
      try (Device dev = Devices.open(build)) {
        int[][] cases = {{16, 4, 16}, {7, 3, 5}, {20, 2, 24}, {33, 1, 8}};
        for (int[] c : cases) {
          int seq = c[0];
          int heads = c[1];
          int hd = c[2];
          int e = heads * hd;
          long[] q = new long[heads];
          long[] sc = new long[heads];
          for (int h = 0; h < heads; h++) {
            q[h] = (long) h * hd;
            sc[h] = (long) h * seq;
          }
          FixedPoint f = FixedPoint.of(0.004 + 0.01 * r.nextDouble());
          DeviceGraph.Builder b = DeviceGraph.builder();
          Node qx = b.input("q", Shape.features(e), 0);
          Node kx = b.input("k", Shape.features(e), 0);
          Node vx = b.input("v", Shape.features(e), 0);
          Node scores = b.product("qk", qx, kx, new ProductLayer(seq, heads * seq, seq, hd,
              seq, q, e, q, 1, e, sc, (long) heads * seq, f.multiplier(), f.shift(), 0));
          Node p = b.softmax("softmax", scores, SoftmaxLayer.of(seq, 0.08, 1.0 / 127, 0));
          FixedPoint g = FixedPoint.of(0.01 + 0.02 * r.nextDouble());
          b.output(b.product("pv", p, vx, new ProductLayer(seq, e, seq, seq, hd, sc,
              (long) heads * seq, q, e, 1, q, e, g.multiplier(), g.shift(), r.nextInt(9) - 4)));
          check(dev, b.build(), seq, r, build + ": attention of " + seq + " tokens, " + heads
              + " heads of " + hd);
        }
      }
    }
  }

  /** The maximum and the mean of each pixel's channels, for channel counts around D. */
  @Test
  void reductionsOfEachPixelsChannels() {
    Random r = new Random(24);
    try (Device dev = Devices.open("emulator:ABUF_ROWS=64")) {
      for (int c : new int[] {5, 16, 40, 64}) {
        for (boolean max : new boolean[] {true, false}) {
          FixedPoint f = FixedPoint.of(1.0 / c);
          ChannelReduceLayer l = new ChannelReduceLayer(max, max ? null : new Requant(
              new int[] {f.multiplier()}, new int[] {f.shift()}, r.nextInt(11) - 5, false));
          DeviceGraph.Builder b = DeviceGraph.builder();
          b.output(b.channelReduce("reduce", b.input("x", new Shape(3 + r.nextInt(5),
              1 + r.nextInt(9), c), r.nextInt(256) - 128), l));
          check(dev, b.build(), 1 + r.nextInt(3), r, (max ? "max" : "mean") + " of " + c
              + " channels");
        }
      }
    }
  }

  /** Pixels spread apart with the zero point between, then a convolution over them. */
  @Test
  void spreadPixelsForTransposedConvolutions() {
    Random r = new Random(23);
    try (Device dev = Devices.open("emulator:ABUF_ROWS=128")) {
      int[][] cases = {{2, 2, 4, 5, 16}, {3, 1, 2, 7, 40}, {1, 4, 3, 6, 5}, {2, 3, 1, 1, 33},
          {2, 2, 5, 9, 8}};
      for (int[] c : cases) {
        DeviceGraph.Builder b = DeviceGraph.builder();
        Node spread = b.spread("spread", b.input("x", new Shape(c[2], c[3], c[4]),
            r.nextInt(256) - 128), new SpreadLayer(c[0], c[1]));
        b.output(b.conv("conv", spread, conv(r, c[4], 6, Window.of(3, 1, 1), true)));
        check(dev, b.build(), 1 + r.nextInt(3), r, "spread x" + c[0] + "," + c[1] + " of "
            + c[2] + "x" + c[3] + "x" + c[4]);
      }
    }
  }

  /** Nearest upsampling by whole factors, channel blocks and rows wider than half of ABUF. */
  @Test
  void nearestUpsamplingByWholeFactors() {
    Random r = new Random(22);
    try (Device dev = Devices.open("emulator:ABUF_ROWS=64")) {
      int[][] cases = {{2, 2, 4, 5, 16}, {3, 1, 2, 7, 40}, {1, 4, 3, 20, 5}, {2, 3, 1, 1, 33}};
      for (int[] c : cases) {
        DeviceGraph.Builder b = DeviceGraph.builder();
        b.output(b.resize("up", b.input("x", new Shape(c[2], c[3], c[4]), r.nextInt(256) - 128),
            new ResizeLayer(c[0], c[1])));
        check(dev, b.build(), 1 + r.nextInt(3), r, "resize x" + c[0] + "," + c[1] + " of "
            + c[2] + "x" + c[3] + "x" + c[4]);
      }
    }
  }

  /**
   * Transposed views of a dense buffer gathered back into order: runs shorter than D, of D, and
   * of several D; blocks larger than half of ABUF; rows of the program that the view mixes.
   */
  @Test
  void copiesGatherTransposedViews() {
    Random r = new Random(21);
    try (Device dev = Devices.open("emulator:ABUF_ROWS=64")) {
      long[][] shapes = {{2, 16, 64}, {3, 5, 7}, {4, 9, 16}, {2, 3, 40, 32}, {70, 2, 8}};
      long[][] perms = {{1, 0, 2}, {1, 0, 2}, {1, 0, 2}, {2, 0, 1, 3}, {1, 0, 2}};
      for (int c = 0; c < shapes.length; c++) {
        long[] dense = shapes[c];
        long[] ds = new long[dense.length];
        long step = 1;
        for (int i = dense.length - 1; i >= 0; i--) {
          ds[i] = step;
          step *= dense[i];
        }
        long[] sh = new long[dense.length];
        long[] st = new long[dense.length];
        for (int i = 0; i < dense.length; i++) {
          sh[i] = dense[(int) perms[c][i]];
          st[i] = ds[(int) perms[c][i]];
        }
        int features = (int) dense[dense.length - 1];
        int rows = (int) (step / features);
        DeviceGraph.Builder b = DeviceGraph.builder();
        b.output(b.copy("copy", b.input("x", Shape.features(features), r.nextInt(256) - 128),
            new CopyLayer(sh, st), rows));
        check(dev, b.build(), rows, r, "copy of " + java.util.Arrays.toString(sh));
      }
    }
  }

  /**
   * Softmax runs that straddle buffer rows, the last one of the tensor moved exactly, with and
   * without a mask keeping a prefix of each run.
   */
  @Test
  void softmaxOfRunsNotAWholeNumberOfRows() {
    Random r = new Random(20);
    try (Device dev = Devices.open("emulator:ABUF_ROWS=64")) {
      for (int[] c : new int[][] {{5, 2}, {21, 3}, {16, 4}, {40, 1}}) {
        DeviceGraph.Builder b = DeviceGraph.builder();
        SoftmaxLayer l = SoftmaxLayer.of(c[0], 0.02 + 0.1 * r.nextDouble(), 1.0 / 256, -128);
        b.output(b.softmax("softmax", b.input("x", Shape.features(c[0] * c[1]),
            r.nextInt(256) - 128), l));
        check(dev, b.build(), 1 + r.nextInt(40), r, "softmax of runs of " + c[0]);
        // Causal: run r keeps a prefix of 1 + r mod width values, in stretches of equal ones.
        int rows = 1 + r.nextInt(20);
        int[] valid = new int[rows * c[1]];
        for (int v = 0; v < valid.length; v++) {
          valid[v] = 1 + (v / 2) % c[0];
        }
        DeviceGraph.Builder masked = DeviceGraph.builder();
        masked.output(masked.softmax("softmax", masked.input("x", Shape.features(c[0] * c[1]),
            r.nextInt(256) - 128), l.masked(valid)));
        check(dev, masked.build(), rows, r, "masked softmax of runs of " + c[0]);
      }
    }
  }

  @Test
  void residualNetworksInOneProgram() {
    Random r = new Random(5);
    try (Device dev = Devices.open("emulator")) {
      check(dev, residualNetwork(r, new Shape(12, 12, 3), 17), 3, r, "12x12x3, 17 channels");
      check(dev, residualNetwork(r, new Shape(9, 7, 5), 8), 2, r, "9x7x5, 8 channels");
      check(dev, residualNetwork(r, new Shape(8, 8, 16), 32), 1, r, "8x8x16, 32 channels");
    }
  }

  /**
   * x -> conv a -> conv b, then add(b, skip) or add(skip, b), skip being x itself or conv a: the
   * add is done in b's epilogue, so b's output is never stored and the add has no instructions.
   */
  static DeviceGraph residualBlock(Random r, Shape in, int mid, boolean layerFirst,
      boolean skipIsInput, Window w) {
    DeviceGraph.Builder b = DeviceGraph.builder();
    Node x = b.input("x", in, r.nextInt(256) - 128);
    Node a = b.conv("a", x, conv(r, in.channels(), mid, Window.of(1, 1, 0), true));
    Node skip = skipIsInput ? x : a;
    Node c = b.conv("b", a, conv(r, mid, skip.shape().channels(), w, true));
    Node sum = layerFirst ? b.add("add", c, skip, add(r)) : b.add("add", skip, c, add(r));
    b.output(sum);
    if (!skipIsInput) {
      b.output(a);
    }
    return b.build();
  }

  @Test
  void residualAddsRunInTheEpilogueOfTheLayerBefore() {
    Random r = new Random(13);
    Window same = Window.of(3, 1, 1);
    for (String build : new String[] {"", ":VECTOR_UNIT=0,LUT_ROWS=0",
        ":ARRAY=8,ABUF_ROWS=512,WBUF_ROWS=96,ACC_ROWS=200"}) {
      try (Device dev = Devices.open("emulator" + build)) {
        int i = 0;
        for (int[] c : new int[][] {{8, 8, 16, 16}, {9, 7, 20, 12}, {12, 12, 3, 40},
            {5, 6, 33, 33}, {4, 4, 64, 24}}) {
          boolean layerFirst = i % 2 == 0;
          boolean skipIsInput = i % 3 != 1;
          Shape in = new Shape(c[0], c[1], c[2]);
          int mid = skipIsInput ? c[3] : c[2];
          GraphCompiler.Program p = check(dev, residualBlock(r, in, mid, layerFirst, skipIsInput,
              i % 2 == 0 ? same : Window.of(1, 1, 0)), 1 + i % 3, r, "residual block " + i
              + " on emulator" + build);
          GraphCompiler.NodePlan conv = p.nodes().get(1);
          GraphCompiler.NodePlan add = p.nodes().get(2);
          assertEquals(conv.node(), add.fusedInto(), "the add is in b's epilogue");
          assertEquals(add.first(), add.end(), "the add has no instructions of its own");
          assertEquals(0, add.estimatedCycles(), "nor cycles");
          assertTrue(!conv.stored() && p.nodes().get(0).stored(), "only b's output is unstored");
          i++;
        }
      }
    }
  }

  @Test
  void deepLayersOnSmallImagesLoadTheirActivationsOncePerStep() {
    Random r = new Random(9);
    Window w = Window.of(3, 1, 1);
    try (Device dev = Devices.open("emulator")) {
      checkActivationSteps(check(dev, single(r, new Shape(7, 7, 256), 3,
          conv(r, 256, 40, w, true)), 1, r, "7x7x256 -> 40, int8"), 9 * 16, 16);
      checkActivationSteps(check(dev, single(r, new Shape(5, 6, 200), -7,
          new ConvLayer(200, 33, w, bytes(r, 33 * 200 * 9), null, null)), 3, r,
          "3 of 5x6x200 -> 33, int32 with the zero point folded into a bias"), 9 * 13, 16);
    }
    try (Device dev = Devices.open("emulator:ARRAY=8,ABUF_ROWS=512,WBUF_ROWS=96,ACC_ROWS=200")) {
      checkActivationSteps(check(dev, single(r, new Shape(4, 9, 40), 11,
          conv(r, 40, 12, w, true)), 2, r, "small buffers, many blocks"), 9 * 5, 8);
    }
  }

  /**
   * The plan keeps every n-tile's sums of a block in ACC: each activation row is loaded once
   * (one buffer row per output pixel and K chunk), each weight row once per block, and three
   * requant rows per n-tile of each block, or for an int32 output, the bias of every n-tile
   * once per row.
   */
  private static void checkActivationSteps(GraphCompiler.Program p, int chunks, int d) {
    GraphCompiler.NodePlan node = p.nodes().get(0);
    MatmulPlan plan = node.matmul();
    assertEquals(MatmulPlan.Order.ACTIVATION_STEPS, plan.order());
    int nc = (plan.n() + d - 1) / d;
    int stepsPerTile = (chunks + plan.chunksPerStep() - 1) / plan.chunksPerStep();
    long blocks = plan.steps() / ((long) nc * stepsPerTile);
    assertTrue(blocks * plan.mTile() >= plan.m() && (blocks - 1) * plan.mTile() < plan.m(),
        blocks + " blocks of up to " + plan.mTile() + " rows for " + plan.m());
    assertEquals((long) plan.m() * chunks + blocks * nc * chunks * d
        + (node.node().int8Output() ? 3 * blocks * nc : (long) nc * plan.m()),
        plan.loadedRows(),
        "activations once, weights once per block of up to " + plan.mTile() + " rows");
  }

  @Test
  void smallBuffersSplitKAndCutRowsIntoRuns() {
    Random r = new Random(6);
    try (Device dev = Devices.open("emulator:ARRAY=8,ABUF_ROWS=128,WBUF_ROWS=96,ACC_ROWS=70")) {
      GraphCompiler.Program p = check(dev, single(r, new Shape(5, 40, 30), 7,
          conv(r, 30, 11, Window.of(3, 1, 1), true)), 2, r, "many chunks, wide rows");
      assertTrue(p.nodes().get(0).matmul().order().splitsK(),
          "K must be split on this build, not " + p.nodes().get(0).matmul().order());
      check(dev, residualNetwork(r, new Shape(6, 30, 5), 9), 2, r, "network on small buffers");
      DeviceGraph.Builder b = DeviceGraph.builder();
      b.output(b.maxPool("pool", b.input("x", new Shape(7, 70, 9), -4),
          new MaxPoolLayer(new Window(3, 2, 1, 2, 1, 0, 1, 1, 1, 1), false)));
      check(dev, b.build(), 2, r, "pool of wide rows");
    }
  }

  @Test
  void convolutionsAsMatricesPackChannels() {
    Random r = new Random(7);
    try (Device dev = Devices.open("emulator")) {
      GraphCompiler.Program pointwise = check(dev, single(r, new Shape(9, 9, 20), 5,
          conv(r, 20, 24, Window.of(1, 1, 0), true)), 3, r, "1x1");
      assertEquals(3 * 81, pointwise.nodes().get(0).matmul().m(), "the batch's pixels are rows");
      assertEquals(2L * 16 * 16 * 2 * 243, pointwise.nodes().get(0).arrayMacs(),
          "20 channels in 2 chunks, 24 outputs in 2 tiles");
      GraphCompiler.Program whole = check(dev, single(r, new Shape(5, 5, 3), -9,
          conv(r, 3, 10, Window.of(5, 1, 0), true)), 4, r, "kernel = image");
      assertEquals(5L * 16 * 16 * 4, whole.nodes().get(0).arrayMacs(), "75 features, 5 chunks");
    }
  }

  @Test
  void timingModelGivesEachLayerItsShare() {
    Random r = new Random(8);
    DeviceGraph g = residualNetwork(r, new Shape(16, 16, 8), 16);
    GraphCompiler.Program p = GraphCompiler.estimate(g, 2, DeviceParams.defaults());
    long sum = 0;
    for (GraphCompiler.NodePlan n : p.nodes()) {
      assertTrue(n.estimatedCycles() > 0, n.node() + " has cycles");
      sum += n.estimatedCycles();
    }
    assertEquals(p.estimatedCycles(), sum);
    long[] issue = TimingModel.issueTimes(p.instructions(), DeviceParams.defaults());
    assertEquals(issue[issue.length - 1] + 1, sum, "layers add up to the program");
    GraphCompiler.NodePlan c2 = p.nodes().get(1);
    assertTrue(c2.utilization(DeviceParams.defaults()) > 0.3, "16->16 3x3 conv on 16x16: "
        + c2.utilization(DeviceParams.defaults()));
  }

  @Test
  void sweepOfChannelsKernelsAndStrides() {
    Random r = new Random(9);
    int count = 0;
    try (Device dev = Devices.open("emulator")) {
      for (int c : new int[] {3, 5, 17, 33}) {
        for (int k : new int[] {1, 3, 5, 7}) {
          for (int s = 1; s <= 3; s++) {
            int pad = r.nextInt(k / 2 + 1);
            Window w = new Window(k, k, s, s, pad, r.nextInt(k / 2 + 1), pad, pad, 1, 1);
            Shape in = new Shape(k + r.nextInt(9), k + r.nextInt(9), c);
            int oc = new int[] {3, 5, 17, 33}[r.nextInt(4)];
            check(dev, single(r, in, r.nextInt(256) - 128, conv(r, c, oc, w, true)), 2, r,
                "conv " + w + " " + in + " -> " + oc);
            count++;
          }
        }
      }
    }
    assertEquals(48, count);
  }
}
