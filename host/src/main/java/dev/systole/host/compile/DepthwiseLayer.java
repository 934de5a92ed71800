package dev.systole.host.compile;

/**
 * A depthwise convolution (ONNX Conv with group = channels and one filter per channel) on int8
 * NHWC data, run by the vector unit rather than the array: on the array each channel would be a
 * one-lane block of a D x D weight tile, D - 1 of every D MACs wasted, where the vector unit's
 * VMAC does D useful lanes per row (CONTRACT.md 11.7). Each window position is one LOAD padded
 * with the input's zero point and one VMAC with the position's weights; a REQUANT with the input
 * zero point folded into the bias ends it.
 *
 * <p>{@code weights} are {@code [C][kh][kw]}; {@code bias} (may be null) and {@code requant} are
 * per channel.
 */
public record DepthwiseLayer(int channels, Window window, byte[] weights, int[] bias,
    Requant requant) implements DeviceLayer {
  public DepthwiseLayer {
    if (channels < 1) {
      throw new IllegalArgumentException("depthwise conv of " + channels
          + " channels (expected >= 1)");
    }
    if (window == null) {
      throw new IllegalArgumentException("depthwise conv without a window");
    }
    long expected = (long) channels * window.kernelH() * window.kernelW();
    if (weights == null || weights.length != expected) {
      throw new IllegalArgumentException("depthwise weights of " + (weights == null ? "no"
          : weights.length) + " bytes for " + channels + "x1x" + window.kernelH() + "x"
          + window.kernelW() + " (expected " + expected + ")");
    }
    if (bias != null && bias.length != channels) {
      throw new IllegalArgumentException("depthwise bias of " + bias.length + " values for "
          + channels + " channels (expected " + channels + ")");
    }
    if (requant == null || requant.columns() != channels) {
      throw new IllegalArgumentException("depthwise requant for " + (requant == null ? "no"
          : requant.columns()) + " channels, layer has " + channels
          + " (expected one multiplier and shift per channel)");
    }
  }

  /**
   * The depthwise layer of a convolution with one input channel per group (its {@code
   * inChannels} is 1 and each output channel reads the input channel of the same index).
   */
  public static DepthwiseLayer of(ConvLayer conv) {
    if (conv.inChannels() != 1) {
      throw new IllegalArgumentException("depthwise from a conv of " + conv.inChannels()
          + " input channels per group (expected 1)");
    }
    return new DepthwiseLayer(conv.outChannels(), conv.window(), conv.weights(), conv.bias(),
        conv.requant());
  }

  /** Window positions: kernel height times width. */
  public int positions() {
    return window.kernelH() * window.kernelW();
  }

  /** The weight of channel {@code c} at window position {@code p} (row-major over the kernel). */
  public int weight(int c, int p) {
    return weights[c * positions() + p];
  }

  /** The bias with the input zero point's share folded in: {@code bias - zx * sum(w)}. */
  int foldedBias(int c, int zx) {
    long sum = 0;
    for (int p = 0; p < positions(); p++) {
      sum += weight(c, p);
    }
    long b = (bias == null ? 0 : bias[c]) - (long) zx * sum;
    if (b < Integer.MIN_VALUE || b > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("depthwise bias[" + c + "] minus input zero point "
          + zx + " x weight sum " + sum + " = " + b + " (expected within int32)");
    }
    return (int) b;
  }

  @Override
  public String describe() {
    return "depthwise " + window + " " + channels + (requant.relu() ? " relu" : "");
  }
}
