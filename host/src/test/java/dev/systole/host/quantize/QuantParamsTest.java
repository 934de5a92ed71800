package dev.systole.host.quantize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class QuantParamsTest {
  @Test
  void coversTheRangeAndRepresentsZeroExactly() {
    Random r = new Random(3);
    for (int i = 0; i < 2000; i++) {
      double a = (r.nextDouble() - 0.5) * Math.pow(10, r.nextInt(6) - 2);
      double b = a + r.nextDouble() * Math.pow(10, r.nextInt(6) - 2);
      QuantParams p = QuantParams.ofRange(a, b);
      assertEquals(0f, p.dequantize(p.zeroPoint()));
      float step = p.scale();
      assertTrue(p.min() <= Math.min(a, 0) + step, () -> p + " for " + a + ".." + b);
      assertTrue(p.max() >= Math.max(b, 0) - step, () -> p + " for " + a + ".." + b);
      float x = (float) (a + (b - a) * r.nextDouble());
      assertTrue(Math.abs(p.dequantize(p.quantize(x)) - x) <= step * 0.5001 + Math.ulp(x) * 4,
          () -> x + " through " + p);
    }
  }

  @Test
  void reluRangeUsesEveryCodeForNonNegativeValues() {
    QuantParams p = QuantParams.ofRange(0, 2.55);
    assertEquals(-128, p.zeroPoint());
    assertEquals(0.01f, p.scale(), 1e-9f);
    assertEquals(127, p.quantize(2.55f));
    assertEquals(-128, p.quantize(-5f));
    assertEquals(127, p.quantize(1e9f));
  }

  @Test
  void roundsHalfToEven() {
    QuantParams p = new QuantParams(1f, 0);
    assertEquals(2, p.quantize(2.5f));
    assertEquals(4, p.quantize(3.5f));
    assertEquals(-2, p.quantize(-2.5f));
  }

  @Test
  void degenerateAndBadRanges() {
    assertEquals(new QuantParams(1f, 0), QuantParams.ofRange(0, 0));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> QuantParams.ofRange(2, 1));
    assertTrue(e.getMessage().contains("min <= max"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> QuantParams.ofRange(0, Double.NaN));
    assertThrows(IllegalArgumentException.class, () -> new QuantParams(0f, 0));
    assertThrows(IllegalArgumentException.class, () -> new QuantParams(1f, 128));
  }
}
