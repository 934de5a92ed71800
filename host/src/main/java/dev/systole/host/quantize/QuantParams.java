package dev.systole.host.quantize;

/**
 * The affine int8 quantization of one tensor: {@code real = scale * (q - zeroPoint)}, with q from
 * -128 to 127. Activations use one pair per tensor, asymmetric, so a ReLU output spends all 256
 * codes on non-negative values; the range always includes 0 so that 0 (padding, a ReLU's floor) is
 * exactly representable. Quantizing rounds half to even, as ONNX QuantizeLinear does, in float32
 * as ONNX Runtime does, so a tensor quantized here matches one quantized there.
 */
public record QuantParams(float scale, int zeroPoint) {
  public QuantParams {
    if (!(scale > 0) || Float.isInfinite(scale)) {
      throw new IllegalArgumentException("scale " + scale + " (expected finite and > 0)");
    }
    if (zeroPoint < -128 || zeroPoint > 127) {
      throw new IllegalArgumentException("zero point " + zeroPoint + " (expected -128 to 127)");
    }
  }

  /**
   * The parameters that map {@code [min, max]}, widened to include 0, onto the 256 int8 codes. An
   * empty or all-zero range gets scale 1 and zero point 0, so that its zeros stay zeros.
   *
   * @throws IllegalArgumentException if a bound is not finite or {@code min > max}
   */
  public static QuantParams ofRange(double min, double max) {
    if (!Double.isFinite(min) || !Double.isFinite(max) || min > max) {
      throw new IllegalArgumentException("range [" + min + ", " + max
          + "] (expected finite bounds with min <= max)");
    }
    double lo = Math.min(min, 0);
    double hi = Math.max(max, 0);
    float scale = (float) ((hi - lo) / 255);
    if (!(scale > 0) || scale < Float.MIN_NORMAL) {
      return new QuantParams(1f, 0);
    }
    long zp = Math.round(-128 - lo / scale);
    return new QuantParams(scale, (int) Math.max(-128, Math.min(127, zp)));
  }

  /** {@code clamp(rne(x / scale) + zeroPoint, -128, 127)}. */
  public int quantize(float x) {
    float r = (float) Math.rint(x / scale);
    float q = r + zeroPoint;
    return q <= -128 ? -128 : q >= 127 ? 127 : (int) q;
  }

  public float dequantize(int q) {
    return scale * (q - zeroPoint);
  }

  /** The smallest real value the codes reach. */
  public float min() {
    return dequantize(-128);
  }

  /** The largest real value the codes reach. */
  public float max() {
    return dequantize(127);
  }
}
