package dev.systole.host.compiler;

/**
 * One layer {@code Y = X * W + b}: int8 weights {@code W} (K x N, row-major), an optional int32
 * bias {@code b} (N), and either a requantization to int8 or the raw int32 result.
 */
public record GemmLayer(int inFeatures, int outFeatures, byte[] weights, int[] bias,
    Requant requant) {
  public GemmLayer {
    if (inFeatures < 1 || outFeatures < 1) {
      throw new IllegalArgumentException("layer of " + inFeatures + " x " + outFeatures
          + " (expected both dimensions >= 1)");
    }
    if ((long) inFeatures * outFeatures != weights.length) {
      throw new IllegalArgumentException("weights of " + weights.length + " bytes for a "
          + inFeatures + " x " + outFeatures + " layer (expected " + (long) inFeatures
          * outFeatures + ")");
    }
    if (bias != null && bias.length != outFeatures) {
      throw new IllegalArgumentException("bias of " + bias.length + " values for " + outFeatures
          + " output columns (expected " + outFeatures + ")");
    }
    if (requant != null && requant.columns() != outFeatures) {
      throw new IllegalArgumentException("requant for " + requant.columns() + " columns, layer has "
          + outFeatures + " (expected one multiplier and shift per column)");
    }
  }

  /** Whether the layer outputs int8 (requantized) rather than int32. */
  public boolean int8Output() {
    return requant != null;
  }

  int weight(int k, int n) {
    return weights[k * outFeatures + n];
  }
}
