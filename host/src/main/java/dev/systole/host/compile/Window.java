package dev.systole.host.compile;

/**
 * The sliding window of a convolution or a pooling layer over an NHWC feature map, with ONNX's
 * attributes: kernel size, strides, pads at the start and end of each axis ({@code pads} =
 * [top, left, bottom, right] in ONNX order), and dilations.
 *
 * <p>Pads are limited to 127 per side: a window LOAD writes the padding of a tile itself, in
 * 8-bit pad counts, and no real network pads more.
 */
public record Window(int kernelH, int kernelW, int strideH, int strideW, int padTop, int padLeft,
    int padBottom, int padRight, int dilationH, int dilationW) {
  /** The largest pad on one side. */
  public static final int MAX_PAD = 127;

  public Window {
    check("kernel", kernelH, kernelW, 1, 4096);
    check("stride", strideH, strideW, 1, 4096);
    check("dilation", dilationH, dilationW, 1, 4096);
    for (int pad : new int[] {padTop, padLeft, padBottom, padRight}) {
      if (pad < 0 || pad > MAX_PAD) {
        throw new IllegalArgumentException("pads " + padTop + "," + padLeft + "," + padBottom
            + "," + padRight + " (expected 0 to " + MAX_PAD + " each)");
      }
    }
  }

  private static void check(String what, int h, int w, int min, int max) {
    if (h < min || w < min || h > max || w > max) {
      throw new IllegalArgumentException(what + " " + h + "x" + w + " (expected " + min + " to "
          + max + " on each axis)");
    }
  }

  /** A square kernel with the same stride and pad on every side, no dilation. */
  public static Window of(int kernel, int stride, int pad) {
    return new Window(kernel, kernel, stride, stride, pad, pad, pad, pad, 1, 1);
  }

  /** Rows of the input one window spans: {@code (kernelH - 1) * dilationH + 1}. */
  public int reachH() {
    return (kernelH - 1) * dilationH + 1;
  }

  /** Columns of the input one window spans. */
  public int reachW() {
    return (kernelW - 1) * dilationW + 1;
  }

  /** Output rows for {@code h} input rows, or 0 if the window does not fit. */
  public int outHeight(int h, boolean ceilMode) {
    return out(h, padTop, padBottom, reachH(), strideH, ceilMode);
  }

  /** Output columns for {@code w} input columns, or 0 if the window does not fit. */
  public int outWidth(int w, boolean ceilMode) {
    return out(w, padLeft, padRight, reachW(), strideW, ceilMode);
  }

  /**
   * ONNX's output size; with ceil mode, as ONNX Runtime and PyTorch compute it, a last window
   * that would start in the end padding is dropped.
   */
  private static int out(int in, int pad0, int pad1, int reach, int stride, boolean ceilMode) {
    long span = (long) in + pad0 + pad1 - reach;
    if (span < 0) {
      return 0;
    }
    long n = (ceilMode ? (span + stride - 1) / stride : span / stride) + 1;
    if (ceilMode && (n - 1) * stride >= (long) in + pad0) {
      n--;
    }
    return (int) n;
  }

  /** True for the identity window: 1x1, stride 1, no pads. */
  boolean pointwise() {
    return kernelH == 1 && kernelW == 1 && strideH == 1 && strideW == 1 && padTop == 0
        && padLeft == 0 && padBottom == 0 && padRight == 0;
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder(kernelH + "x" + kernelW);
    if (strideH != 1 || strideW != 1) {
      sb.append(" stride ").append(strideH == strideW ? "" + strideH : strideH + "x" + strideW);
    }
    if (padTop != 0 || padLeft != 0 || padBottom != 0 || padRight != 0) {
      sb.append(" pads ").append(padTop).append(',').append(padLeft).append(',')
          .append(padBottom).append(',').append(padRight);
    }
    if (dilationH != 1 || dilationW != 1) {
      sb.append(" dilation ").append(dilationH == dilationW ? "" + dilationH
          : dilationH + "x" + dilationW);
    }
    return sb.toString();
  }
}
