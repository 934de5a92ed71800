package dev.systole.host.compile;

/**
 * Nearest-neighbour upsampling of a feature map by whole factors: output pixel (y, x) is input
 * pixel (y / factorH, x / factorW), the codes unchanged (the output keeps the input's zero
 * point). Addressing only: each input row is loaded with every pixel repeated factorW times
 * (a LOAD stride of 0) and stored factorH times.
 */
public record ResizeLayer(int factorH, int factorW) implements DeviceLayer {
  public ResizeLayer {
    if (factorH < 1 || factorW < 1 || factorH > 255 || factorW > 255) {
      throw new IllegalArgumentException("resize by " + factorH + "x" + factorW
          + " (expected whole factors from 1 to 255)");
    }
  }

  @Override
  public String describe() {
    return "resize nearest x" + factorH + "," + factorW;
  }
}
