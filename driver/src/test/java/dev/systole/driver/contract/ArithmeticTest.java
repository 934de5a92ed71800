package dev.systole.driver.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The worked examples of CONTRACT.md, "Arithmetic", checked against the one implementation. */
class ArithmeticTest {
  @Test
  void roundShiftRoundsToNearestTiesToEven() {
    assertEquals(2, Arithmetic.roundShift(5, 1)); // 2.5 -> 2
    assertEquals(4, Arithmetic.roundShift(7, 1)); // 3.5 -> 4
    assertEquals(-2, Arithmetic.roundShift(-5, 1)); // -2.5 -> -2
    assertEquals(-4, Arithmetic.roundShift(-7, 1)); // -3.5 -> -4
    assertEquals(3, Arithmetic.roundShift(11, 2)); // 2.75 -> 3
    assertEquals(-3, Arithmetic.roundShift(-11, 2)); // -2.75 -> -3
    assertEquals(1, Arithmetic.roundShift(5, 2)); // 1.25 -> 1
    assertEquals(12345, Arithmetic.roundShift(12345, 0));
    assertEquals(0, Arithmetic.roundShift(1L << 62, 63)); // 0.5 -> 0
    assertEquals(0, Arithmetic.roundShift(-(1L << 62), 63)); // -0.5 -> 0
  }

  /** Round to nearest, ties to even, by its definition: the floor, and the remainder against half. */
  private static long nearestEven(long v, int shift) {
    if (shift == 0) {
      return v;
    }
    long floor = v >> shift;
    long rem = v - (floor << shift);
    long half = 1L << (shift - 1);
    return rem > half || (rem == half && (floor & 1) != 0) ? floor + 1 : floor;
  }

  @Test
  void roundShiftIsRoundToNearestEvenForEveryShift() {
    Random r = new Random(5);
    for (int i = 0; i < 2_000_000; i++) {
      int shift = r.nextInt(64);
      long v = switch (i % 3) {
        case 0 -> r.nextLong() >> r.nextInt(64);
        // Ties and their neighbours: a multiple of 2^shift, plus half, plus -1, 0 or 1.
        case 1 -> shift == 0 ? r.nextInt() : ((r.nextLong() >> 2) >> shift << shift)
            + (1L << (shift - 1)) + r.nextInt(3) - 1;
        default -> r.nextInt(2001) - 1000;
      };
      assertEquals(nearestEven(v, shift), Arithmetic.roundShift(v, shift),
          "roundShift(" + v + ", " + shift + ")");
    }
    for (int shift = 0; shift < 64; shift++) {
      for (long v : new long[] {1L << 62, -(1L << 62), Long.MAX_VALUE, Long.MIN_VALUE + 1, 0, 1,
          -1}) {
        assertEquals(nearestEven(v, shift), Arithmetic.roundShift(v, shift),
            "roundShift(" + v + ", " + shift + ")");
      }
    }
  }

  @Test
  void requantizeWorkedExamples() {
    // 1000 * 0.75 = 750 -> saturates at 127
    assertEquals(127, Arithmetic.requantize(1000, 0, 3 << 29, 31, 0, false));
    // (200 + 56) * 2^30 / 2^33 = 32 exactly, + zp 5 = 37
    assertEquals(37, Arithmetic.requantize(200, 56, 1 << 30, 33, 5, false));
    // 100 * 0.5 = 50, a tie-free case; -100 * 0.5 = -50
    assertEquals(50, Arithmetic.requantize(100, 0, 1 << 30, 31, 0, false));
    assertEquals(-50, Arithmetic.requantize(-100, 0, 1 << 30, 31, 0, false));
    // 5 * 0.5 = 2.5 -> 2 (tie to even); 7 * 0.5 = 3.5 -> 4; -5 * 0.5 = -2.5 -> -2
    assertEquals(2, Arithmetic.requantize(5, 0, 1 << 30, 31, 0, false));
    assertEquals(4, Arithmetic.requantize(7, 0, 1 << 30, 31, 0, false));
    assertEquals(-2, Arithmetic.requantize(-5, 0, 1 << 30, 31, 0, false));
    // ReLU clamps at the zero point: -50 + zp -10 = -60 -> -10
    assertEquals(-10, Arithmetic.requantize(-100, 0, 1 << 30, 31, -10, true));
    // below -128 saturates
    assertEquals(-128, Arithmetic.requantize(-100000, 0, 1 << 30, 31, 0, false));
    // acc + bias saturates at int32 before the multiply: (2^31-1) * 1 >> 24 = 128 -> 127
    assertEquals(127, Arithmetic.requantize(Integer.MAX_VALUE, 1000, 1, 24, 0, false));
    // shift uses only its low 6 bits: 64 + 1 acts as 1
    assertEquals(Arithmetic.requantize(9, 0, 1, 1, 0, false),
        Arithmetic.requantize(9, 0, 1, 65, 0, false));
  }

  @Test
  void extremeRequantizeDoesNotOverflow() {
    // sat32(MIN + MIN) = MIN; MIN * MIN = 2^62; >> 62 = 1 -> 1
    assertEquals(1, Arithmetic.requantize(Integer.MIN_VALUE, Integer.MIN_VALUE,
        Integer.MIN_VALUE, 62, 0, false));
    // MAX * MIN = -(2^62 - 2^31) -> / 2^62 = -0.9999... -> -1
    assertEquals(-1, Arithmetic.requantize(Integer.MAX_VALUE, 0, Integer.MIN_VALUE, 62, 0,
        false));
  }

  @Test
  void vaddWorkedExamples() {
    // (10 - 2) * 2^14 + (20 - 4) * 2^14 = 24 * 2^14, >> 15 = 12, + 1 = 13
    assertEquals(13, Arithmetic.vadd(10, 20, 2, 4, 1, 1 << 14, 1 << 14, 15, false));
    // tie: (3 + 0) * 2^14 >> 15 = 1.5 -> 2
    assertEquals(2, Arithmetic.vadd(3, 0, 0, 0, 0, 1 << 14, 1 << 14, 15, false));
    // 127 + 127 saturates; -128 + -128 saturates
    assertEquals(127, Arithmetic.vadd(127, 127, 0, 0, 0, 1, 1, 0, false));
    assertEquals(-128, Arithmetic.vadd(-128, -128, 0, 0, 0, 1, 1, 0, false));
    // ReLU at the output zero point
    assertEquals(3, Arithmetic.vadd(-50, 0, 0, 0, 3, 1, 1, 0, true));
  }
}
