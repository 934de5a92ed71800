package dev.systole.driver.xdma;

import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;

/**
 * How a PCIe link trained, as sysfs shows it for a PCI function: the speed and width now, and
 * the most the two ends support. A link that trained below its maximum still works, only slower
 * (a x16 card in a x8 slot); a link that is down shows an unknown speed and width 0. Any attribute
 * can be missing: not every function, kernel or container has them, and then nothing is claimed.
 *
 * @param currentSpeed {@code current_link_speed}, such as {@code 8.0 GT/s PCIe}
 * @param currentWidth {@code current_link_width}, the lanes in use
 * @param maxSpeed {@code max_link_speed}
 * @param maxWidth {@code max_link_width}
 */
public record PcieLink(Optional<String> currentSpeed, OptionalInt currentWidth,
    Optional<String> maxSpeed, OptionalInt maxWidth) {

  /** The link attributes in {@code functionDir}, a sysfs PCI function directory or a copy. */
  public static PcieLink read(Path functionDir) {
    return new PcieLink(XdmaNodes.read(functionDir.resolve("current_link_speed")),
        XdmaNodes.readInt(functionDir.resolve("current_link_width")),
        XdmaNodes.read(functionDir.resolve("max_link_speed")),
        XdmaNodes.readInt(functionDir.resolve("max_link_width")));
  }

  /** Whether sysfs says anything about the current link. */
  public boolean known() {
    return currentSpeed.isPresent() || currentWidth.isPresent();
  }

  /** Whether the link is down: no lanes, or a speed the kernel cannot name. */
  public boolean down() {
    return currentWidth.orElse(-1) == 0
        || currentSpeed.filter(s -> s.startsWith("Unknown")).isPresent();
  }

  /** Whether the link is up but slower or narrower than both ends support. */
  public boolean degraded() {
    if (down()) {
      return false;
    }
    boolean slower = currentSpeed.isPresent() && maxSpeed.isPresent()
        && gigatransfers(currentSpeed.get()).orElse(0) < gigatransfers(maxSpeed.get()).orElse(0);
    boolean narrower = currentWidth.isPresent() && maxWidth.isPresent()
        && currentWidth.getAsInt() < maxWidth.getAsInt();
    return slower || narrower;
  }

  /**
   * The raw data rate of the link as trained, in bytes per second: lanes times transfers per
   * second times the line code's efficiency (8b/10b up to 5 GT/s, 128b/130b above). No DMA reaches
   * it (packet headers and flow control take their share), but it bounds what DMA can do.
   */
  public OptionalDouble bytesPerSecond() {
    if (currentSpeed.isEmpty() || currentWidth.isEmpty() || down()) {
      return OptionalDouble.empty();
    }
    OptionalDouble gt = gigatransfers(currentSpeed.get());
    if (gt.isEmpty()) {
      return OptionalDouble.empty();
    }
    double code = gt.getAsDouble() <= 5.0 ? 8.0 / 10 : 128.0 / 130;
    return OptionalDouble.of(gt.getAsDouble() * 1e9 * code / 8 * currentWidth.getAsInt());
  }

  /** {@code 8.0 GT/s PCIe x16}, with {@code ?} for what sysfs did not say. */
  public String now() {
    return currentSpeed.orElse("?") + " x" + (currentWidth.isPresent()
        ? String.valueOf(currentWidth.getAsInt()) : "?");
  }

  /** The maximum, written as {@link #now()} writes the current link. */
  public String max() {
    return maxSpeed.orElse("?") + " x" + (maxWidth.isPresent()
        ? String.valueOf(maxWidth.getAsInt()) : "?");
  }

  /** The number in {@code 8.0 GT/s PCIe}, or empty if the text does not start with one. */
  static OptionalDouble gigatransfers(String speed) {
    int space = speed.indexOf(' ');
    try {
      return OptionalDouble.of(Double.parseDouble(space < 0 ? speed : speed.substring(0, space)));
    } catch (NumberFormatException e) {
      return OptionalDouble.empty();
    }
  }
}
