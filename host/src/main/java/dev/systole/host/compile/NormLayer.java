package dev.systole.host.compile;

/**
 * Layer normalization of vectors of C int8 features (ONNX LayerNormalization over the last axis,
 * or the decomposed form exporters write), the contract's VNORM (7.8): each vector normalized
 * in integer arithmetic, then {@code out = clamp(zeroPoint + rne(t * scale + bias, shift))} per
 * feature, t being the normalized value times 2^12. {@code eps} is {@code C^2 * epsilon / s_x^2}
 * rounded, the form VNORM takes.
 */
public record NormLayer(int[] scale, int[] bias, int[] shift, long eps, int zeroPoint)
    implements DeviceLayer {
  public NormLayer {
    int c = scale.length;
    if (c < 1 || bias.length != c || shift.length != c) {
      throw new IllegalArgumentException("norm: " + scale.length + ", " + bias.length + " and "
          + shift.length + " values (expected one of each per feature, at least one)");
    }
    if (eps < 0 || eps > 0xFFFF_FFFFL) {
      throw new IllegalArgumentException("norm: eps " + eps + " (expected 0 to 2^32 - 1)");
    }
    if (zeroPoint < -128 || zeroPoint > 127) {
      throw new IllegalArgumentException("norm: zero point " + zeroPoint
          + " (expected -128 to 127)");
    }
    scale = scale.clone();
    bias = bias.clone();
    shift = shift.clone();
  }

  /**
   * The layer for real per-feature {@code gamma} and {@code beta}, an input of scale {@code sx}
   * and an output of scale {@code sy} and zero point {@code zy}.
   */
  public static NormLayer of(double[] gamma, double[] beta, double epsilon, double sx,
      double sy, int zy) {
    int c = gamma.length;
    int[] g = new int[c];
    int[] b = new int[c];
    int[] s = new int[c];
    for (int j = 0; j < c; j++) {
      double gs = gamma[j] / sy;
      double bs = beta[j] / sy;
      int shift = 50;
      while (shift > 12 && (Math.abs(gs) * Math.pow(2, shift - 12) >= Integer.MAX_VALUE
          || Math.abs(bs) * Math.pow(2, shift) >= Integer.MAX_VALUE)) {
        shift--;
      }
      s[j] = shift;
      g[j] = clamp(Math.rint(gs * Math.pow(2, shift - 12)));
      b[j] = clamp(Math.rint(bs * Math.pow(2, shift)));
    }
    double e = Math.rint((double) c * c * epsilon / (sx * sx));
    return new NormLayer(g, b, s, (long) Math.min(0xFFFF_FFFFL, Math.max(0, e)), zy);
  }

  private static int clamp(double v) {
    return (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, v));
  }

  public int features() {
    return scale.length;
  }

  @Override
  public int[] scale() {
    return scale.clone();
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
    return "layernorm " + features();
  }
}
