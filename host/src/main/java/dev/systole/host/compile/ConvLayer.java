package dev.systole.host.compile;

/**
 * A 2-D int8 convolution (group 1): weights in ONNX's OIHW order ({@code [outChannels]
 * [inChannels][kernelH][kernelW]}), an optional int32 bias per output channel, and either a
 * requantization to int8 per output channel (with the output zero point and an optional fused
 * ReLU) or the raw int32 result. Activations are NHWC.
 *
 * <p><b>The input's zero point.</b> The layer means {@code sum (x - zx) * w + bias}, where zx is
 * the zero point of the tensor that feeds it and padding is zx (a real 0). The array computes
 * {@code sum x * w}; the compiler pads every window LOAD with zx, so every kernel position is in
 * the sum, padding included, and folds the rest into the bias: {@code bias - zx * sum w}. That is
 * exact as long as the int32 accumulator does not wrap, which needs a reduction of more than
 * 2^17 terms of extreme values, as for a GEMM.
 *
 * <p><b>Lowering.</b> A 1x1 stride-1 unpadded convolution is a GEMM over the {@code N*H*W} pixels
 * of the NHWC input, and one whose kernel covers its whole unpadded input is a GEMM over the
 * {@code N} images; both run as such, with channels packed densely into the array's lanes.
 * Every other convolution runs as CONTRACT.md 11.1 lowers it: each kernel position and block of D
 * input channels is one K chunk, loaded as a strided window of the image.
 *
 * <p>Depthwise and grouped convolutions are not layers here: on the array they would be a block
 * diagonal of D x D tiles that is mostly zeros (a depthwise 3x3 would use 1/D of every tile), so
 * they run on the host CPU.
 */
public record ConvLayer(int inChannels, int outChannels, Window window, byte[] weights,
    int[] bias, Requant requant) implements DeviceLayer {
  public ConvLayer {
    if (inChannels < 1 || outChannels < 1) {
      throw new IllegalArgumentException("conv of " + inChannels + " -> " + outChannels
          + " channels (expected both >= 1)");
    }
    if (window == null) {
      throw new IllegalArgumentException("conv without a window");
    }
    long expected = (long) outChannels * inChannels * window.kernelH() * window.kernelW();
    if (weights == null || weights.length != expected) {
      throw new IllegalArgumentException("conv weights of " + (weights == null ? "no"
          : weights.length) + " bytes for " + outChannels + "x" + inChannels + "x"
          + window.kernelH() + "x" + window.kernelW() + " (expected " + expected
          + ", OIHW)");
    }
    if (bias != null && bias.length != outChannels) {
      throw new IllegalArgumentException("conv bias of " + bias.length + " values for "
          + outChannels + " output channels (expected " + outChannels + ")");
    }
    if (requant != null && requant.columns() != outChannels) {
      throw new IllegalArgumentException("conv requant for " + requant.columns()
          + " channels, layer has " + outChannels + " (expected one multiplier and shift per"
          + " output channel)");
    }
  }

  /** Whether the layer outputs int8 (requantized) rather than int32. */
  public boolean int8Output() {
    return requant != null;
  }

  /** The weight of output channel o, input channel c, kernel position (ky, kx). */
  public int weight(int o, int c, int ky, int kx) {
    return weights[((o * inChannels + c) * window.kernelH() + ky) * window.kernelW() + kx];
  }

  @Override
  public String describe() {
    return "conv " + window + " " + inChannels + "->" + outChannels
        + (requant == null ? " int32" : requant.relu() ? " relu" : "");
  }

  /**
   * The same convolution as a 1x1 one over the input's patches: an input pixel per output pixel
   * whose {@code kernelH * kernelW * inChannels} channels are the window it sees, feature
   * {@code (ky*kernelW + kx)*inChannels + c} (the NHWC order of the window, as
   * {@link #lowered} packs a matrix). Fed with patches gathered on the host, padding set to the
   * input's zero point, it gives the same bytes: the products are the same, and the bias is
   * folded over the same sum of weights.
   */
  public ConvLayer patches() {
    int kh = window.kernelH();
    int kw = window.kernelW();
    int k = kh * kw * inChannels;
    byte[] w = new byte[outChannels * k];
    for (int o = 0; o < outChannels; o++) {
      for (int ky = 0; ky < kh; ky++) {
        for (int kx = 0; kx < kw; kx++) {
          for (int c = 0; c < inChannels; c++) {
            w[o * k + (ky * kw + kx) * inChannels + c] = (byte) weight(o, c, ky, kx);
          }
        }
      }
    }
    return new ConvLayer(k, outChannels, Window.of(1, 1, 0), w, bias, requant);
  }

  /** Whether it runs as a GEMM on an input of {@code h x w} (see the class comment). */
  boolean runsAsMatrix(int h, int w) {
    return window.pointwise() || window.kernelH() == h && window.kernelW() == w
        && window.dilationH() == 1 && window.dilationW() == 1 && window.padTop() == 0
        && window.padLeft() == 0 && window.padBottom() == 0 && window.padRight() == 0;
  }

  /**
   * The GEMM the array runs for an {@code h x w} input with zero point {@code zx} on a device of
   * {@code d} lanes. As a matrix, feature {@code (ky*kw + kx)*C + c} (the NHWC order of the
   * window); as windows, feature {@code ((ky*kw + kx)*Cb + cb)*D + k} for channel
   * {@code cb*D + k}, zero past C. The bias has the zero point folded in.
   */
  GemmLayer lowered(int h, int w, int zx, int d) {
    int kh = window.kernelH();
    int kw = window.kernelW();
    boolean matrix = runsAsMatrix(h, w);
    int cb = WeightLayout.chunks(inChannels, d);
    int perPosition = matrix ? inChannels : cb * d;
    int k = kh * kw * perPosition;
    byte[] lowered = new byte[k * outChannels];
    int[] folded = bias == null && zx == 0 ? null : new int[outChannels];
    for (int o = 0; o < outChannels; o++) {
      long sum = 0;
      for (int ky = 0; ky < kh; ky++) {
        for (int kx = 0; kx < kw; kx++) {
          for (int c = 0; c < inChannels; c++) {
            int v = weight(o, c, ky, kx);
            sum += v;
            int f = (ky * kw + kx) * perPosition + c;
            lowered[f * outChannels + o] = (byte) v;
          }
        }
      }
      if (folded != null) {
        long b = (bias == null ? 0 : bias[o]) - (long) zx * sum;
        if (b < Integer.MIN_VALUE || b > Integer.MAX_VALUE) {
          throw new IllegalArgumentException("conv bias[" + o + "] = " + (bias == null ? 0
              : bias[o]) + " minus input zero point " + zx + " x weight sum " + sum + " = " + b
              + " (expected the folded bias within int32)");
        }
        folded[o] = (int) b;
      }
    }
    return new GemmLayer(k, outChannels, lowered, folded, requant);
  }
}
