package dev.systole.host.compile;

/**
 * The maximum or the mean of each pixel's channels (ONNX ReduceMax or ReduceMean over the
 * channel axis of a feature map, kept as one channel): VREDUCE across the lanes of each
 * channel block, combined over the blocks. A maximum of codes is the code of the maximum, so it
 * keeps the input's zero point; a mean is the lanes' sum requantized by {@code requant}, whose
 * bias takes away the input zero point's C copies.
 */
public record ChannelReduceLayer(boolean max, Requant requant) implements DeviceLayer {
  public ChannelReduceLayer {
    if (max != (requant == null) || requant != null && requant.columns() != 1) {
      throw new IllegalArgumentException("channel reduce: " + (max ? "a maximum with" : "a mean"
          + " with") + " requant " + requant + " (expected none for a maximum, one multiplier"
          + " for a mean)");
    }
  }

  @Override
  public String describe() {
    return (max ? "max" : "mean") + " of channels";
  }
}
