package dev.systole.host.quantize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RangeObserverTest {
  @Test
  void minMaxSeesTheExtremesAcrossBatches() {
    RangeObserver o = RangeObserver.create(RangeObserver.Method.MINMAX);
    o.observe(new float[] {1, 2, Float.NaN});
    o.observe(new float[] {-3, 0.5f, Float.POSITIVE_INFINITY});
    assertEquals(4, o.count());
    assertEquals(QuantParams.ofRange(-3, 2), o.params());
  }

  @Test
  void histogramPercentilesAreExactToOneBin() {
    Random r = new Random(6);
    float[] all = new float[200_000];
    HistogramObserver h = new HistogramObserver(0.999);
    for (int batch = 0; batch < 20; batch++) {
      float[] v = new float[10_000];
      double spread = 1 + batch;
      for (int i = 0; i < v.length; i++) {
        v[i] = (float) (r.nextGaussian() * spread + (batch % 2 == 0 ? 2 : -2));
      }
      h.observe(v);
      System.arraycopy(v, 0, all, batch * v.length, v.length);
    }
    float[] sorted = all.clone();
    Arrays.sort(sorted);
    double range = sorted[sorted.length - 1] - sorted[0];
    double bin = range / HistogramObserver.BINS * 4;
    for (double q : new double[] {0.001, 0.01, 0.5, 0.99, 0.999}) {
      double exact = sorted[(int) (q * sorted.length)];
      assertEquals(exact, h.quantile(q), bin, "quantile " + q);
    }
    QuantParams p = h.params();
    assertTrue(p.max() < sorted[sorted.length - 1], "the top outliers are clipped");
    assertTrue(p.max() >= sorted[(int) (0.999 * sorted.length)] - p.scale());
  }

  @Test
  void histogramNeverReachesPastTheValuesSeen() {
    RangeObserver o = RangeObserver.create(RangeObserver.Method.PERCENTILE);
    o.observe(new float[] {0f, 0f, 0f});
    o.observe(new float[] {0f, 1f, 3f});
    QuantParams p = o.params();
    assertEquals(0f, p.dequantize(p.zeroPoint()));
    assertTrue(p.max() <= 3f + p.scale());
    assertEquals(6, o.count());
  }
}
