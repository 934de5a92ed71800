package dev.systole.host.compile;

/**
 * A feature map's pixels spread {@code strideH} rows and {@code strideW} columns apart, the
 * zero point between them: output pixel (y * strideH, x * strideW) is input pixel (y, x), the
 * output {@code (H - 1) * strideH + 1} by {@code (W - 1) * strideW + 1}. A transposed
 * convolution is a convolution of its input spread so, with its kernel flipped: the array runs
 * it as it runs any convolution. Addressing only: one LOAD per input row writes the row's
 * pixels with padding rows between them and the zero rows of the output rows after it, and
 * STOREs write those.
 */
public record SpreadLayer(int strideH, int strideW) implements DeviceLayer {
  public SpreadLayer {
    if (strideH < 1 || strideW < 1 || strideH > 256 || strideW > 256) {
      throw new IllegalArgumentException("spread by " + strideH + "x" + strideW
          + " (expected strides from 1 to 256)");
    }
  }

  @Override
  public String describe() {
    return "spread " + strideH + "," + strideW;
  }
}
