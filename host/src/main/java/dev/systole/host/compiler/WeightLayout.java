package dev.systole.host.compiler;

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

  private static void putInt(byte[] b, int i, int v) {
    b[i] = (byte) v;
    b[i + 1] = (byte) (v >>> 8);
    b[i + 2] = (byte) (v >>> 16);
    b[i + 3] = (byte) (v >>> 24);
  }
}
