package dev.systole.host.cpu;

/**
 * Turning an int32 accumulator into a quantized value the way ONNX Runtime does for QLinearConv
 * and QLinearMatMul, so results match it bit for bit: the real scale {@code x_scale * w_scale /
 * y_scale} in float32, the product {@code float(acc) * scale} in float32, rounding half to even,
 * then the zero point, then saturation to the output type.
 */
final class Requant {
  private Requant() {}

  static int apply(int acc, float scale, int zeroPoint, int lo, int hi) {
    return saturate(Math.rint((float) acc * scale) + zeroPoint, lo, hi);
  }

  /** Rounds {@code x / scale} half to even, adds the zero point and saturates: QuantizeLinear. */
  static int quantize(float x, float scale, int zeroPoint, int lo, int hi) {
    return saturate(Math.rint(x / scale) + zeroPoint, lo, hi);
  }

  private static int saturate(double v, int lo, int hi) {
    if (Double.isNaN(v)) {
      return Math.max(lo, Math.min(hi, 0));
    }
    return (int) Math.max(lo, Math.min(hi, v));
  }
}
