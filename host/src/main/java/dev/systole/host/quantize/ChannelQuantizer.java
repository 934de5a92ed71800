package dev.systole.host.quantize;

/**
 * Quantization of a layer's constants: weights per output channel, symmetric, and biases at the
 * accumulator's scale.
 *
 * <p>Weights are symmetric (zero point 0) because the array multiplies raw int8 values: a weight
 * zero point would add a term proportional to the sum of each input window, which depends on the
 * data and cannot be folded into the bias. Codes run from -127 to 127, leaving -128 unused, so
 * that negating a channel is exact and the scale is the same for the largest positive and the
 * largest negative weight. A scale per output channel costs nothing on the device (REQUANT has a
 * multiplier per lane) and keeps a channel of small weights from being rounded away by one of
 * large weights in the same layer.
 *
 * <p>Weights are output-channel major: channel {@code c} owns the {@code weights.length /
 * channels} consecutive values from {@code c * weights.length / channels} (ONNX's OIHW for a
 * convolution, {@code [N][K]} for a fully connected layer).
 */
public final class ChannelQuantizer {
  private ChannelQuantizer() {}

  /** The int8 codes of a layer's weights and the scale of each output channel. */
  public record Weights(byte[] values, float[] scales) {}

  /**
   * Quantizes {@code weights} with one symmetric scale per output channel, {@code max |w| / 127}
   * (1 for a channel of zeros).
   *
   * @throws IllegalArgumentException if {@code channels} does not divide the weight count, or a
   *     weight is not finite
   */
  public static Weights perChannel(float[] weights, int channels) {
    int per = perChannelCount(weights.length, channels);
    byte[] q = new byte[weights.length];
    float[] scales = new float[channels];
    for (int c = 0; c < channels; c++) {
      float max = 0;
      for (int i = c * per; i < (c + 1) * per; i++) {
        float w = weights[i];
        if (!Float.isFinite(w)) {
          throw new IllegalArgumentException("weight " + i + " (output channel " + c + ") is " + w
              + " (expected a finite number)");
        }
        max = Math.max(max, Math.abs(w));
      }
      float scale = max > 0 ? max / 127 : 1f;
      scales[c] = scale;
      for (int i = c * per; i < (c + 1) * per; i++) {
        float r = (float) Math.rint(weights[i] / scale);
        q[i] = (byte) Math.max(-127, Math.min(127, r));
      }
    }
    return new Weights(q, scales);
  }

  /**
   * The bias of each output channel in the accumulator's units, {@code rne(b / (inputScale *
   * weightScale))}, saturated to int32 (a bias that large would saturate the sum anyway).
   *
   * @throws IllegalArgumentException if the lengths differ or a value is not finite
   */
  public static int[] bias(float[] bias, float inputScale, float[] weightScales) {
    if (bias.length != weightScales.length) {
      throw new IllegalArgumentException("bias of " + bias.length + " values for "
          + weightScales.length + " output channels (expected one per channel)");
    }
    int[] q = new int[bias.length];
    for (int c = 0; c < bias.length; c++) {
      if (!Float.isFinite(bias[c])) {
        throw new IllegalArgumentException("bias[" + c + "] is " + bias[c]
            + " (expected a finite number)");
      }
      double r = Math.rint(bias[c] / ((double) inputScale * weightScales[c]));
      q[c] = (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, r));
    }
    return q;
  }

  /**
   * The requantization scale of each output channel, {@code inputScale * weightScale /
   * outputScale}, as the contract's fixed-point pairs.
   */
  public static FixedPoint[] requant(float inputScale, float[] weightScales, float outputScale) {
    FixedPoint[] out = new FixedPoint[weightScales.length];
    for (int c = 0; c < out.length; c++) {
      out[c] = FixedPoint.of((double) inputScale * weightScales[c] / outputScale);
    }
    return out;
  }

  static int perChannelCount(int length, int channels) {
    if (channels < 1 || length == 0 || length % channels != 0) {
      throw new IllegalArgumentException(length + " weights for " + channels
          + " output channels (expected a positive multiple of the channel count)");
    }
    return length / channels;
  }
}
