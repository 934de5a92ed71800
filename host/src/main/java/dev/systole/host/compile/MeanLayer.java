package dev.systole.host.compile;

/**
 * The mean over every pixel of an int8 NHWC feature map, per channel, to a {@code 1 x 1 x C}
 * int8 map (ONNX GlobalAveragePool, or ReduceMean over the spatial axes): VREDUCE sums the raw
 * values of each channel block down its pixels into an ACC row, and REQUANT applies
 * {@code requant} with the input zero point's share, {@code -pixels * zx}, as its bias
 * (CONTRACT.md 11.8). {@code requant} holds one multiplier for {@code s_x / (s_y * pixels)}.
 */
public record MeanLayer(Requant requant) implements DeviceLayer {
  public MeanLayer {
    if (requant == null || requant.columns() != 1) {
      throw new IllegalArgumentException("mean: requant for " + (requant == null ? "no"
          : requant.columns()) + " columns (expected one multiplier for every channel)");
    }
  }

  @Override
  public String describe() {
    return "mean";
  }
}
