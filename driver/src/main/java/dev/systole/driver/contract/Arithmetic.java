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
   * {@code v / 2^shift} rounded to the nearest integer, ties to even, for {@code shift} 0 to 63.
   * The floor goes up by one when the remainder r (0 to 2^shift - 1) is over half, or is half and
   * the floor is odd: exactly when {@code r + (floor & 1) + 2^(shift-1) - 1} reaches 2^shift. That
   * sum is below 2^64 as an unsigned number, so its unsigned shift is the 0 or 1 to add, without
   * a branch; the emulator's vector kernels compute the same sum lane by lane.
   */
  public static long roundShift(long v, int shift) {
    if (shift == 0) {
      return v;
    }
    long floor = v >> shift;
    long rem = v - (floor << shift);
    return floor + ((rem + (floor & 1) + (1L << (shift - 1)) - 1) >>> shift);
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

  /**
   * VSCALE of one lane: {@code sat8(zo + rne((x - za) * m + bias, shift & 63))} with
   * {@code m = x >= za ? multPos : multNeg}.
   */
  public static int vscale(int x, int aZero, int multPos, int multNeg, int bias, int shift,
      int outZero) {
    long d = x - aZero;
    long p = d * (d >= 0 ? multPos : multNeg) + bias;
    return saturate8(roundShift(p, shift & 63) + outZero);
  }

  /** VMUL of one lane: {@code sat8(zo + rne((a - za) * (b - zb) * mult, shift))}. */
  public static int vmul(int a, int b, int aZero, int bZero, int outZero, int mult, int shift) {
    long p = (long) (a - aZero) * (b - bZero) * mult;
    return saturate8(roundShift(p, shift) + outZero);
  }

  /** The largest integer whose square is at most {@code v} (v >= 0). */
  public static long isqrt(long v) {
    if (v < 0) {
      throw new IllegalArgumentException("isqrt of " + v + " (expected >= 0)");
    }
    long r = (long) Math.sqrt((double) v);
    while (r * r > v) {
      r--;
    }
    while ((r + 1) * (r + 1) <= v) {
      r++;
    }
    return r;
  }

  /**
   * VSOFTMAX of one vector: {@code m = max x}; {@code e_l = max(table[m - x_l], 0)};
   * {@code S = sum e}; {@code R = S > 0 ? floor(2^44 / S) : 0};
   * {@code y_l = sat8(zo + rne(e_l * R * mult, shift))}.
   *
   * @param x the {@code n} int8 values of the vector
   * @param table the 256 int16 entries of the exponential table
   * @param y receives the {@code n} results
   */
  public static void softmax(int[] x, int n, short[] table, int outZero, int mult, int shift,
      int[] y) {
    int m = -128;
    for (int l = 0; l < n; l++) {
      m = Math.max(m, x[l]);
    }
    long sum = 0;
    for (int l = 0; l < n; l++) {
      sum += Math.max(table[m - x[l]], 0);
    }
    long recip = sum > 0 ? (1L << 44) / sum : 0;
    for (int l = 0; l < n; l++) {
      long e = Math.max(table[m - x[l]], 0);
      y[l] = saturate8(roundShift(e * recip * mult, shift) + outZero);
    }
  }

  /**
   * VNORM of one vector of {@code n} int8 values: {@code S1 = sum x}, {@code S2 = sum x^2},
   * {@code V = n*S2 - S1^2}, {@code T = V + eps}, {@code inv = T > 0 ? isqrt(floor(2^62 / T)) :
   * 0}, {@code c_l = n*x_l - S1}, {@code t_l = rne(c_l * inv, 19)} (the normalized value times
   * 2^12), {@code y_l = sat8(zo + rne(t_l * scale_l + bias_l, shift_l & 63))}.
   */
  public static void layerNorm(int[] x, int n, long eps, int[] scale, int[] bias, int[] shift,
      int outZero, int[] y) {
    long s1 = 0;
    long s2 = 0;
    for (int l = 0; l < n; l++) {
      s1 += x[l];
      s2 += (long) x[l] * x[l];
    }
    long t = (long) n * s2 - s1 * s1 + eps;
    long inv = t > 0 ? isqrt((1L << 62) / t) : 0;
    for (int l = 0; l < n; l++) {
      long c = (long) n * x[l] - s1;
      long norm = roundShift(c * inv, 19);
      y[l] = saturate8(roundShift(norm * scale[l] + bias[l], shift[l] & 63) + outZero);
    }
  }
}
