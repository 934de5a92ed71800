package dev.systole.driver.contract;

/**
 * The contract's integer arithmetic, written once: every implementation in Java (the emulator,
 * the host's CPU fallback, the test references) calls these, and the RTL is held to the same
 * results by the golden programs.
 */
public final class Arithmetic {
  private Arithmetic() {}

  /** Saturates to the int32 range. */
  public static int saturate32(long v) {
    return (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, v));
  }

  /** Saturates to the int8 range. */
  public static int saturate8(long v) {
    return (int) Math.max(-128, Math.min(127, v));
  }

  /**
   * {@code v / 2^shift} rounded to the nearest integer, ties to even. {@code shift} is 0 to 63 and
   * {@code |v| <= 2^62}, so nothing overflows.
   */
  public static long roundShift(long v, int shift) {
    if (shift == 0) {
      return v;
    }
    long floor = v >> shift;
    long rem = v - (floor << shift);
    long half = 1L << (shift - 1);
    if (rem > half || (rem == half && (floor & 1) != 0)) {
      return floor + 1;
    }
    return floor;
  }

  /**
   * REQUANT of one lane: {@code clamp(rne(sat32(acc + bias) * mult, shift & 63) + zp, lo, 127)}
   * with {@code lo = relu ? zp : -128}.
   */
  public static int requantize(int acc, int bias, int mult, int shift, int zeroPoint,
      boolean relu) {
    long v = saturate32((long) acc + bias);
    long r = roundShift(v * mult, shift & 63) + zeroPoint;
    long lo = relu ? zeroPoint : -128;
    return (int) Math.max(lo, Math.min(127, r));
  }

  /**
   * VADD of one lane: {@code clamp(zo + rne((a - za) * ma + (b - zb) * mb, shift), lo, 127)} with
   * {@code lo = relu ? zo : -128}.
   */
  public static int vadd(int a, int b, int aZero, int bZero, int outZero, int aMult, int bMult,
      int shift, boolean relu) {
    long sum = (long) (a - aZero) * aMult + (long) (b - bZero) * bMult;
    long r = roundShift(sum, shift) + outZero;
    long lo = relu ? outZero : -128;
    return (int) Math.max(lo, Math.min(127, r));
  }
}
