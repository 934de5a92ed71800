package dev.systole.host.compile;

/**
 * One layer {@code Y = X * W + b}: int8 weights {@code W} (K x N, row-major), an optional int32
 * bias {@code b} (N), and either a requantization to int8 or the raw int32 result. In a
 * {@link DeviceGraph} the input's zero point is folded into the bias, and over an NHWC feature map
 * the K features are in NHWC order ({@link WeightLayout#nchwFlattenToNhwc} reorders weights
 * written for ONNX's NCHW Flatten).
 */
public record GemmLayer(int inFeatures, int outFeatures, byte[] weights, int[] bias,
    Requant requant) implements DeviceLayer {
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

  @Override
  public String describe() {
    return "gemm " + inFeatures + "->" + outFeatures
        + (requant == null ? " int32" : requant.relu() ? " relu" : "");
  }

  /**
   * This layer for an input of zero point {@code zx}: {@code bias - zx * sum_k W[k][n]}, so that
   * the array's {@code sum x * w} plus the bias is {@code sum (x - zx) * w} plus the bias. A
   * folded bias of zero in every column is no bias, so an int32 layer loads no row of zeros.
   */
  GemmLayer withInputZeroPoint(int zx) {
    if (zx == 0) {
      return this;
    }
    int[] folded = new int[outFeatures];
    boolean zero = true;
    for (int n = 0; n < outFeatures; n++) {
      long sum = 0;
      for (int k = 0; k < inFeatures; k++) {
        sum += weights[k * outFeatures + n];
      }
      long b = (bias == null ? 0 : bias[n]) - (long) zx * sum;
      if (b < Integer.MIN_VALUE || b > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("gemm bias[" + n + "] minus input zero point " + zx
            + " x weight sum " + sum + " = " + b + " (expected the folded bias within int32)");
      }
      folded[n] = (int) b;
      zero &= b == 0;
    }
    return new GemmLayer(inFeatures, outFeatures, weights, zero ? null : folded, requant);
  }

  int weight(int k, int n) {
    return weights[k * outFeatures + n];
  }
}
