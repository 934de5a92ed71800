package dev.systole.host.compile;

/**
 * A residual add of two int8 tensors of the same shape, each with its own scale and zero point,
 * into an int8 output (the contract's VADD, CONTRACT.md 7.4): {@code out = clamp(zeroPoint +
 * rne(((a - za) * aMultiplier + (b - zb) * bMultiplier) / 2^shift))}, clamped below at the zero
 * point with {@code relu}. The inputs' zero points are those of the tensors that feed it; the
 * multipliers are {@code s_a / s_out} and {@code s_b / s_out} in fixed point.
 */
public record AddLayer(int aMultiplier, int bMultiplier, int shift, int zeroPoint, boolean relu)
    implements DeviceLayer {
  public AddLayer {
    if (shift < 0 || shift > 63) {
      throw new IllegalArgumentException("add: shift " + shift + " (expected 0 to 63)");
    }
    if (zeroPoint < -128 || zeroPoint > 127) {
      throw new IllegalArgumentException("add: zero point " + zeroPoint
          + " (expected -128 to 127)");
    }
  }

  /**
   * The add of inputs with scales {@code aScale} and {@code bScale} into an output of scale
   * {@code outScale}: both ratios in fixed point over the largest common shift (at most 63) that
   * keeps each multiplier below 2^31.
   */
  public static AddLayer ofScales(double aScale, double bScale, double outScale, int zeroPoint,
      boolean relu) {
    if (!(aScale > 0) || !(bScale > 0) || !(outScale > 0) || Double.isInfinite(aScale)
        || Double.isInfinite(bScale) || Double.isInfinite(outScale)) {
      throw new IllegalArgumentException("add: scales " + aScale + ", " + bScale + " -> "
          + outScale + " (expected finite and > 0)");
    }
    double ra = aScale / outScale;
    double rb = bScale / outScale;
    double largest = Math.max(ra, rb);
    int shift = 63;
    while (shift > 0 && Math.round(largest * Math.pow(2, shift)) > Integer.MAX_VALUE) {
      shift--;
    }
    if (Math.round(largest * Math.pow(2, shift)) > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("add: scale ratio " + largest
          + " (expected below 2^31, the largest multiplier)");
    }
    return new AddLayer((int) Math.round(ra * Math.pow(2, shift)),
        (int) Math.round(rb * Math.pow(2, shift)), shift, zeroPoint, relu);
  }

  /** The difference {@code a - b}: this add with b's multiplier negated. */
  public AddLayer difference() {
    return new AddLayer(aMultiplier, -bMultiplier, shift, zeroPoint, relu);
  }

  @Override
  public String describe() {
    return "add" + (relu ? " relu" : "");
  }
}
