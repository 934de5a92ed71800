package dev.systole.host.compile;

/**
 * How a layer's constants lie in card memory, as the compiler's programs read them: weights as
 * D x D tiles ordered [n-tile][k-chunk] so that one LOAD brings every tile an output column
 * block needs; requant parameters as three int32 rows per n-tile (bias, multiplier, shift); a
 * raw layer's bias as one int32 row per n-tile. Padding is zero, so padded lanes add nothing.
 */
public final class WeightLayout {
  private WeightLayout() {}

  static int chunks(int n, int d) {
    return (n + d - 1) / d;
  }

  /** Weight tiles: tile (nt, kc) at ((nt * KC + kc) * D + k) * D + n. */
  public static byte[] tiles(GemmLayer l, int d) {
    int kc = chunks(l.inFeatures(), d);
    int nc = chunks(l.outFeatures(), d);
    byte[] out = new byte[nc * kc * d * d];
    for (int t = 0; t < nc; t++) {
      for (int c = 0; c < kc; c++) {
        int base = (t * kc + c) * d * d;
        for (int r = 0; r < d && c * d + r < l.inFeatures(); r++) {
          for (int j = 0; j < d && t * d + j < l.outFeatures(); j++) {
            out[base + r * d + j] = (byte) l.weight(c * d + r, t * d + j);
          }
        }
      }
    }
    return out;
  }

  /** Bytes of the per-n-tile constant rows: 3 rows (requant) or 1 (bias), 0 if none. */
  public static int constantBytes(GemmLayer l, int d) {
    int rows = l.int8Output() ? 3 : l.bias() != null ? 1 : 0;
    return chunks(l.outFeatures(), d) * rows * d * 4;
  }

  /** Requant rows [nt][bias, multiplier, shift][D] or bias rows [nt][D], int32 little-endian. */
  public static byte[] constants(GemmLayer l, int d) {
    byte[] out = new byte[constantBytes(l, d)];
    if (out.length == 0) {
      return out;
    }
    int nc = chunks(l.outFeatures(), d);
    int rows = l.int8Output() ? 3 : 1;
    for (int t = 0; t < nc; t++) {
      for (int j = 0; j < d && t * d + j < l.outFeatures(); j++) {
        int col = t * d + j;
        int base = (t * rows) * d + j;
        putInt(out, base * 4, l.bias() == null ? 0 : l.bias()[col]);
        if (l.int8Output()) {
          putInt(out, (base + d) * 4, l.requant().multiplier(col));
          putInt(out, (base + 2 * d) * 4, l.requant().shift(col));
        }
      }
    }
    return out;
  }

  /**
   * Reorders the rows of a K x N weight matrix written for ONNX's Flatten of an NCHW tensor
   * (feature {@code (c*H + h)*W + w}) into the NHWC order a {@link DeviceGraph} flattens in
   * (feature {@code (h*W + w)*C + c}), so a GEMM after a convolution needs no transpose of the
   * data.
   */
  public static byte[] nchwFlattenToNhwc(byte[] weights, int channels, int height, int width,
      int outFeatures) {
    long k = (long) channels * height * width;
    if (channels < 1 || height < 1 || width < 1 || outFeatures < 1
        || weights.length != k * outFeatures) {
      throw new IllegalArgumentException("weights of " + weights.length + " bytes for "
          + channels + "x" + height + "x" + width + " features x " + outFeatures
          + " outputs (expected " + k * outFeatures + ", all dimensions >= 1)");
    }
    byte[] out = new byte[weights.length];
    for (int c = 0; c < channels; c++) {
      for (int h = 0; h < height; h++) {
        for (int w = 0; w < width; w++) {
          int from = (c * height + h) * width + w;
          int to = (h * width + w) * channels + c;
          System.arraycopy(weights, from * outFeatures, out, to * outFeatures, outFeatures);
        }
      }
    }
    return out;
  }

  private static void putInt(byte[] b, int i, int v) {
    b[i] = (byte) v;
    b[i + 1] = (byte) (v >>> 8);
    b[i + 2] = (byte) (v >>> 16);
    b[i + 3] = (byte) (v >>> 24);
  }
}
