package dev.systole.host.compile;

import dev.systole.host.compile.DeviceGraph.Node;
import dev.systole.host.compile.DeviceGraph.Shape;
import java.util.Random;

/**
 * Random layers with requantization scaled to the reduction length, so outputs spread over the
 * int8 range instead of saturating, and a small residual network built from them.
 */
public final class RandomLayers {
  private RandomLayers() {}

  public static Requant requant(Random r, int columns, long reduction, int zeroPoint,
      boolean relu) {
    int[] mult = new int[columns];
    int[] shift = new int[columns];
    int base = 30 + (int) Math.ceil(Math.log(Math.sqrt(reduction) * 60) / Math.log(2));
    for (int j = 0; j < columns; j++) {
      mult[j] = (1 << 30) + r.nextInt(1 << 30);
      shift[j] = base + r.nextInt(2);
    }
    return new Requant(mult, shift, zeroPoint, relu);
  }

  public static int[] bias(Random r, int n) {
    int[] b = new int[n];
    for (int j = 0; j < n; j++) {
      b[j] = r.nextInt(20_001) - 10_000;
    }
    return b;
  }

  public static byte[] bytes(Random r, int n) {
    byte[] b = new byte[n];
    r.nextBytes(b);
    return b;
  }

  public static ConvLayer conv(Random r, int c, int oc, Window w, boolean int8) {
    long reduction = (long) c * w.kernelH() * w.kernelW();
    return new ConvLayer(c, oc, w, bytes(r, (int) (oc * reduction)), r.nextInt(4) == 0 ? null
        : bias(r, oc), int8 ? requant(r, oc, reduction, r.nextInt(256) - 128, r.nextBoolean())
        : null);
  }

  public static GemmLayer gemm(Random r, int k, int n, boolean int8) {
    return new GemmLayer(k, n, bytes(r, k * n), bias(r, n), int8 ? requant(r, n, k,
        r.nextInt(256) - 128, r.nextBoolean()) : null);
  }

  public static AddLayer add(Random r) {
    return AddLayer.ofScales(0.5 + r.nextDouble(), 0.5 + r.nextDouble(), 1 + r.nextDouble(),
        r.nextInt(256) - 128, r.nextBoolean());
  }

  /** conv -> conv -> add(skip) with relu -> maxpool -> gemm, every node an output. */
  public static DeviceGraph residualNetwork(Random r, Shape in, int mid) {
    DeviceGraph.Builder b = DeviceGraph.builder();
    Node x = b.input("x", in, r.nextInt(256) - 128);
    Node c1 = b.conv("c1", x, conv(r, in.channels(), mid, Window.of(3, 1, 1), true));
    Node c2 = b.conv("c2", c1, conv(r, mid, mid, Window.of(3, 1, 1), true));
    Node sum = b.add("add", c2, c1, add(r));
    Node pool = b.maxPool("pool", sum, MaxPoolLayer.of(2, 2, 0));
    Node fc = b.gemm("fc", pool, gemm(r, (int) pool.shape().size(), 10, false));
    b.output(fc).output(c1).output(sum).output(pool).output(c2);
    return b.build();
  }
}
