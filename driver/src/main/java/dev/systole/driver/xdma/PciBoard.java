package dev.systole.driver.xdma;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A Xilinx PCI function as sysfs describes it, with what a user needs to tell why a board does
 * not open: which driver holds it, how its link trained, and which XDMA nodes exist for it. Found
 * by {@link XdmaNodes#find}.
 *
 * @param address the PCI address, {@code 0000:03:00.0}
 * @param vendor the vendor ID, 0x10ee
 * @param device the device ID, which the bitstream's PCIe core sets ({@code 0x903f} and the like)
 * @param driver the name of the bound kernel driver, if any
 * @param currentLinkSpeed sysfs {@code current_link_speed}, {@code 8.0 GT/s PCIe}, if present
 * @param maxLinkSpeed sysfs {@code max_link_speed}, if present
 * @param currentLinkWidth sysfs {@code current_link_width}, the lane count, if present
 * @param maxLinkWidth sysfs {@code max_link_width}, if present
 * @param board the board number N of the {@code xdmaN_*} nodes, for a board bound to xdma
 * @param nodes the {@code xdmaN_*} nodes that exist, by name; empty without a board number
 */
public record PciBoard(String address, int vendor, int device, Optional<String> driver,
    Optional<String> currentLinkSpeed, Optional<String> maxLinkSpeed,
    OptionalInt currentLinkWidth, OptionalInt maxLinkWidth, OptionalInt board,
    List<Path> nodes) {
  public PciBoard {
    nodes = List.copyOf(nodes);
  }

  /** Whether the xdma driver is bound, so that the board has nodes. */
  public boolean xdmaBound() {
    return driver.filter(XdmaNodes.DRIVER::equals).isPresent();
  }

  /** The link's state as sysfs gave it. */
  public PcieLink link() {
    return new PcieLink(currentLinkSpeed, currentLinkWidth, maxLinkSpeed, maxLinkWidth);
  }

  /**
   * Whether the link trained below what both ends support (a slower speed or fewer lanes), as in a
   * x16 card in a x4 slot: DMA will be slower than it could be. False when sysfs does not say.
   */
  public boolean linkDegraded() {
    boolean slower = currentLinkSpeed.isPresent() && maxLinkSpeed.isPresent()
        && !currentLinkSpeed.get().equals(maxLinkSpeed.get());
    boolean narrower = currentLinkWidth.isPresent() && maxLinkWidth.isPresent()
        && currentLinkWidth.getAsInt() < maxLinkWidth.getAsInt();
    return slower || narrower;
  }
}
