package dev.systole.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.systole.driver.contract.Arithmetic;
import dev.systole.host.compile.GemmLayer;
import dev.systole.host.compile.LayerGraph;
import dev.systole.host.compile.Requant;
import dev.systole.host.run.LoadedGraph;
import dev.systole.host.run.Session;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Hundreds of GEMMs of awkward shapes through the Session API on the emulator, exact against a
 * plain Java product: 1x1x1, 1xKx1, dimensions that are not multiples of 16, and K larger than
 * the whole weight buffer (64 KiB holds 16 columns of K = 4096).
 */
class SessionGemmTest {
  @Test
  void awkwardAndRandomShapesAreExact() {
    Random r = new Random(11);
    int[][] fixed = {{1, 1, 1}, {1, 777, 1}, {1, 1, 300}, {300, 1, 1}, {17, 33, 15},
        {16, 16, 16}, {15, 17, 31}, {3, 5000, 20}, {40, 4500, 3}, {2, 8191, 17}};
    int count = 0;
    try (Session s = Session.open("emulator", line -> { })) {
      for (int[] shape : fixed) {
        for (int mode = 0; mode < 3; mode++) {
          check(s, r, shape[0], shape[1], shape[2], mode);
          count++;
        }
      }
      for (int i = 0; i < 220; i++) {
        int m = 1 + r.nextInt(r.nextInt(6) == 0 ? 400 : 50);
        int k = 1 + r.nextInt(r.nextInt(6) == 0 ? 1500 : 70);
        int n = 1 + r.nextInt(r.nextInt(6) == 0 ? 150 : 50);
        check(s, r, m, k, n, i % 3);
        count++;
      }
    }
    assertEquals(250, count);
  }

  /** mode 0: int32; 1: int32 + bias; 2: requantized int8 with bias. */
  private static void check(Session s, Random r, int m, int k, int n, int mode) {
    byte[] w = new byte[k * n];
    r.nextBytes(w);
    int[] bias = null;
    if (mode > 0) {
      bias = new int[n];
      for (int j = 0; j < n; j++) {
        bias[j] = r.nextInt(200_001) - 100_000;
      }
    }
    Requant q = null;
    if (mode == 2) {
      int[] mult = new int[n];
      int[] shift = new int[n];
      for (int j = 0; j < n; j++) {
        mult[j] = 1 + r.nextInt(Integer.MAX_VALUE);
        shift[j] = 30 + r.nextInt(14);
      }
      q = new Requant(mult, shift, r.nextInt(256) - 128, r.nextBoolean());
    }
    LayerGraph g = LayerGraph.of(new GemmLayer(k, n, w, bias, q));
    byte[] x = new byte[m * k];
    r.nextBytes(x);
    LoadedGraph loaded = s.load(g);
    try {
      Tensor y = s.run(loaded, Tensor.ofInt8(x, m, k));
      assertEquals(q == null ? DType.INT32 : DType.INT8, y.dtype());
      for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
          int acc = 0;
          for (int l = 0; l < k; l++) {
            acc += x[i * k + l] * w[l * n + j];
          }
          int want = q != null ? Arithmetic.requantize(acc, bias[j], q.multiplier()[j],
              q.shift()[j], q.zeroPoint(), q.relu()) : acc + (bias == null ? 0 : bias[j]);
          int got = q != null ? y.getInt8((long) i * n + j) : y.getInt32((long) i * n + j);
          if (want != got) {
            assertEquals(want, got, m + "x" + k + "x" + n + " mode " + mode + ": Y[" + i + "]["
                + j + "]");
          }
        }
      }
    } finally {
      s.unload(loaded);
    }
  }
}
