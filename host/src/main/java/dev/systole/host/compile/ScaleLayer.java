package dev.systole.host.compile;

/**
 * A per-channel affine map of an int8 tensor with its own slope below zero (the contract's
 * VSCALE, 7.5): {@code out = clamp(zeroPoint + rne((x - zx) * m + bias, shift))} with
 * {@code m = x >= zx ? multPos : multNeg}, per channel. A standalone BatchNormalization, a Mul
 * or Add by a per-channel constant, a PRelu with per-channel slopes.
 */
public record ScaleLayer(int[] multPos, int[] multNeg, int[] bias, int[] shift, int zeroPoint)
    implements DeviceLayer {
  public ScaleLayer {
    int c = multPos.length;
    if (c < 1 || multNeg.length != c || bias.length != c || shift.length != c) {
      throw new IllegalArgumentException("scale: " + multPos.length + ", " + multNeg.length
          + ", " + bias.length + " and " + shift.length + " values (expected one of each per"
          + " channel, at least one channel)");
    }
    for (int s : shift) {
      if (s < 0 || s > 63) {
        throw new IllegalArgumentException("scale: shift " + s + " (expected 0 to 63)");
      }
    }
    if (zeroPoint < -128 || zeroPoint > 127) {
      throw new IllegalArgumentException("scale: zero point " + zeroPoint
          + " (expected -128 to 127)");
    }
    multPos = multPos.clone();
    multNeg = multNeg.clone();
    bias = bias.clone();
    shift = shift.clone();
  }

  /**
   * The layer for real slopes {@code pos} and {@code neg} and offsets {@code offset} (in units
   * of the output scale) per channel: each channel's multipliers and bias over the largest
   * common shift that keeps them within int32.
   */
  public static ScaleLayer of(double[] pos, double[] neg, double[] offset, int zeroPoint) {
    int c = pos.length;
    int[] mp = new int[c];
    int[] mn = new int[c];
    int[] b = new int[c];
    int[] s = new int[c];
    for (int j = 0; j < c; j++) {
      double largest = Math.max(Math.max(Math.abs(pos[j]), Math.abs(neg[j])),
          Math.abs(offset[j]));
      int shift = 40;
      while (shift > 0 && largest * Math.pow(2, shift) >= Integer.MAX_VALUE) {
        shift--;
      }
      s[j] = shift;
      mp[j] = fixed(pos[j], shift);
      mn[j] = fixed(neg[j], shift);
      b[j] = fixed(offset[j], shift);
    }
    return new ScaleLayer(mp, mn, b, s, zeroPoint);
  }

  private static int fixed(double v, int shift) {
    double f = Math.rint(v * Math.pow(2, shift));
    return (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, f));
  }

  public int channels() {
    return multPos.length;
  }

  @Override
  public int[] multPos() {
    return multPos.clone();
  }

  @Override
  public int[] multNeg() {
    return multNeg.clone();
  }

  @Override
  public int[] bias() {
    return bias.clone();
  }

  @Override
  public int[] shift() {
    return shift.clone();
  }

  @Override
  public String describe() {
    return "scale per channel";
  }
}
