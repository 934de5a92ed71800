package dev.systole.host.compile;

/**
 * Softmax of every run of {@code width} consecutive int8 values (ONNX Softmax over the last
 * axis), the contract's VSOFTMAX (7.7): the largest value of the run is subtracted, each
 * difference d (0 to 255) looked up in the table of {@code round(2^14 * exp(-d * s_x))}, and the
 * probabilities scaled by {@code mult / 2^shift} in units of {@code 2^-44} to the output's
 * quantization. The runs need not start a row of the tensor: a tensor of rows of C features
 * holds {@code C / width} runs per row. With {@code valid}, run r (in buffer order) is only its
 * first {@code valid[r]} values, the rest being masked out (probability 0, the output zero
 * point): a causal mask keeps a prefix of each query's scores.
 */
public record SoftmaxLayer(int width, short[] table, int mult, int shift, int zeroPoint,
    int[] valid) implements DeviceLayer {
  public SoftmaxLayer {
    if (width < 1 || width > 65535) {
      throw new IllegalArgumentException("softmax of runs of " + width + " values (expected 1"
          + " to 65535)");
    }
    if (table.length != 256) {
      throw new IllegalArgumentException("softmax table of " + table.length + " entries"
          + " (expected 256)");
    }
    if (mult < 0 || mult > 0xFFFF || shift < 0 || shift > 63) {
      throw new IllegalArgumentException("softmax: mult " + mult + ", shift " + shift
          + " (expected 0 to 65535 and 0 to 63)");
    }
    if (zeroPoint < -128 || zeroPoint > 127) {
      throw new IllegalArgumentException("softmax: zero point " + zeroPoint
          + " (expected -128 to 127)");
    }
    table = table.clone();
    if (valid != null) {
      for (int r = 0; r < valid.length; r++) {
        if (valid[r] < 1 || valid[r] > width) {
          throw new IllegalArgumentException("softmax: run " + r + " keeps " + valid[r]
              + " values (expected 1 to " + width + ")");
        }
      }
      valid = valid.clone();
    }
  }

  /**
   * The layer for runs of {@code width} values of an input of scale {@code sx}, to an output of
   * scale {@code sy} and zero point {@code zy}: the table as CONTRACT.md 7.7 fills it, and the
   * largest shift whose multiplier stays below 2^16.
   */
  public static SoftmaxLayer of(int width, double sx, double sy, int zy) {
    if (!(sx > 0) || !(sy > 0) || Double.isInfinite(sx) || Double.isInfinite(sy)) {
      throw new IllegalArgumentException("softmax scales " + sx + " and " + sy
          + " (expected finite and > 0)");
    }
    short[] t = new short[256];
    for (int d = 0; d < 256; d++) {
      t[d] = (short) Math.rint(16384 * Math.exp(-d * sx));
    }
    for (int shift = 63; shift >= 0; shift--) {
      double m = Math.rint(Math.pow(2, shift - 44) / sy);
      if (m < 65536 && m >= 1) {
        return new SoftmaxLayer(width, t, (int) m, shift, zy, null);
      }
    }
    throw new IllegalArgumentException("softmax to an output of scale " + sy + " (expected one"
        + " at least 2^-60, at most 2^19)");
  }

  @Override
  public short[] table() {
    return table.clone();
  }

  @Override
  public int[] valid() {
    return valid == null ? null : valid.clone();
  }

  /** This softmax keeping only the first {@code valid[r]} values of run r. */
  public SoftmaxLayer masked(int[] valid) {
    return new SoftmaxLayer(width, table, mult, shift, zeroPoint, valid);
  }

  /** The values run {@code r} keeps. */
  public int valid(int r) {
    return valid == null ? width : valid[r];
  }

  @Override
  public String describe() {
    return (valid == null ? "softmax " : "masked softmax ") + width;
  }
}
