package dev.systole.host.quantize;

/**
 * A positive real scale as the contract's fixed-point pair: {@code multiplier * 2^-shift}, the
 * form REQUANT and VADD take (CONTRACT.md 7.3). The multiplier is normalised to [2^30, 2^31), which
 * keeps 31 significant bits, as long as the shift stays within the 6 bits the device reads; scales
 * below 2^-33 lose precision instead (the shift is pinned at 63 and the multiplier shrinks), and
 * scales that round to a multiplier of 0 make every product 0, which is what such a scale means
 * for int32 accumulators anyway.
 */
public record FixedPoint(int multiplier, int shift) {
  /** The largest shift the device reads. */
  public static final int MAX_SHIFT = 63;

  public FixedPoint {
    if (shift < 0 || shift > MAX_SHIFT) {
      throw new IllegalArgumentException("shift " + shift + " (expected 0 to " + MAX_SHIFT + ")");
    }
  }

  /**
   * The pair nearest to {@code scale}.
   *
   * @throws IllegalArgumentException if the scale is not finite and positive, or is 2^31 or more
   *     (no multiplier can hold it with a shift of 0)
   */
  public static FixedPoint of(double scale) {
    if (!(scale > 0) || Double.isInfinite(scale)) {
      throw new IllegalArgumentException("scale " + scale + " (expected finite and > 0)");
    }
    int e = Math.getExponent(scale);
    int shift = 30 - e;
    if (shift > MAX_SHIFT) {
      return new FixedPoint((int) Math.round(Math.scalb(scale, MAX_SHIFT)), MAX_SHIFT);
    }
    long m = Math.round(Math.scalb(scale, shift));
    if (m == 1L << 31) {
      m >>= 1;
      shift--;
    }
    if (shift < 0) {
      throw new IllegalArgumentException("scale " + scale + " (expected below 2^31, the largest"
          + " multiplier with a shift of 0)");
    }
    return new FixedPoint((int) m, shift);
  }

  /** The real scale this pair stands for. */
  public double value() {
    return Math.scalb((double) multiplier, -shift);
  }
}
