package dev.systole.host.quantize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.driver.contract.Arithmetic;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Fixed-point scales against a double reference, through the contract's REQUANT arithmetic. */
class FixedPointTest {
  @Test
  void keepsThirtyOneBitsOverTheUsualRange() {
    Random r = new Random(1);
    for (int i = 0; i < 10_000; i++) {
      double scale = Math.pow(10, -9 + 12 * r.nextDouble());
      FixedPoint f = FixedPoint.of(scale);
      assertTrue(f.multiplier() >= 1 << 30, () -> scale + " -> " + f);
      assertTrue(Math.abs(f.value() - scale) <= scale * 0x1p-31, () -> scale + " -> " + f);
    }
  }

  @Test
  void requantizeMatchesTheRealProductRoundedHalfToEven() {
    Random r = new Random(2);
    for (int i = 0; i < 20_000; i++) {
      double scale = Math.pow(10, -6 + 5 * r.nextDouble());
      int acc = r.nextInt(1 << 24) - (1 << 23);
      FixedPoint f = FixedPoint.of(scale);
      int device = Arithmetic.requantize(acc, 0, f.multiplier(), f.shift(), 0, false);
      double exact = acc * scale;
      long expected = (long) Math.max(-128, Math.min(127, Math.rint(exact)));
      double distanceToTie = Math.abs(exact - Math.floor(exact) - 0.5);
      if (distanceToTie > Math.abs(exact) * 0x1p-29 + 1e-12) {
        assertEquals(expected, device, () -> acc + " x " + scale + " = " + exact);
      } else {
        assertTrue(Math.abs(expected - device) <= 1);
      }
    }
  }

  @Test
  void exactPowersOfTwoAndTheEdges() {
    assertEquals(new FixedPoint(1 << 30, 31), FixedPoint.of(0.5));
    assertEquals(new FixedPoint(1 << 30, 30), FixedPoint.of(1.0));
    assertEquals(new FixedPoint(1 << 30, 0), FixedPoint.of(0x1p30));
    FixedPoint tiny = FixedPoint.of(0x1p-40);
    assertEquals(63, tiny.shift());
    assertEquals(1 << 23, tiny.multiplier());
    assertEquals(0, FixedPoint.of(0x1p-70).multiplier());
    FixedPoint nearlyOne = FixedPoint.of(Math.nextDown(1.0));
    assertEquals(1.0, nearlyOne.value(), 0x1p-30);
  }

  @Test
  void refusesScalesItCannotHold() {
    IllegalArgumentException big = assertThrows(IllegalArgumentException.class,
        () -> FixedPoint.of(0x1p31));
    assertTrue(big.getMessage().contains("below 2^31"), big.getMessage());
    assertThrows(IllegalArgumentException.class, () -> FixedPoint.of(0));
    assertThrows(IllegalArgumentException.class, () -> FixedPoint.of(-1));
    assertThrows(IllegalArgumentException.class, () -> FixedPoint.of(Double.NaN));
    assertThrows(IllegalArgumentException.class, () -> new FixedPoint(1, 64));
  }
}
