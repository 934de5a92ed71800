package dev.systole.host.cli;

import dev.systole.driver.DeviceException;
import dev.systole.driver.Ticker;
import dev.systole.driver.xdma.PciBoard;
import dev.systole.driver.xdma.PciSysfs;
import dev.systole.driver.xdma.XdmaNodes;
import dev.systole.host.cli.diag.Boards;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The PCIe side of {@code program} and {@code reset}: which PCI function a board is, and after a
 * rescan, waiting (by an injected ticker, so tests take no time) until it is back, bound to xdma,
 * with the nodes a device needs.
 */
final class PcieBus {
  /** How often sysfs is looked at while waiting. */
  static final Duration POLL = Duration.ofMillis(200);

  private final PciSysfs sysfs;
  private final Path xdmaRoot;
  private final Ticker ticker;
  private final PciSysfs.Pause pause;

  PcieBus(Path sysfs, Path xdmaRoot, Ticker ticker, PciSysfs.Pause pause) {
    this.sysfs = new PciSysfs(sysfs);
    this.xdmaRoot = xdmaRoot;
    this.ticker = ticker;
    this.pause = pause;
  }

  PciSysfs sysfs() {
    return sysfs;
  }

  List<PciBoard> boards() {
    return XdmaNodes.find(sysfs.devices(), xdmaRoot);
  }

  /** The function of board {@code xdma:N}, if sysfs has it bound to xdma. */
  Optional<PciBoard> byName(String name) {
    OptionalInt n = Boards.boardNumber(name);
    if (n.isEmpty()) {
      throw new IllegalArgumentException("--device " + name + " (expected xdma:N, a board through"
          + " the XDMA driver)");
    }
    return boards().stream().filter(b -> b.board().orElse(-1) == n.getAsInt()).findFirst();
  }

  Optional<PciBoard> byAddress(String address) {
    return boards().stream().filter(b -> b.address().equals(address)).findFirst();
  }

  /** One line on a function: address, IDs, driver and board name. */
  static String describe(PciBoard b) {
    return String.format("PCI %s (%04x:%04x, driver %s%s)", b.address(), b.vendor(), b.device(),
        b.driver().orElse("none"), b.board().isPresent() ? ", xdma:" + b.board().getAsInt()
            : "");
  }

  /** Every Xilinx function, for an error that must say what there is. */
  String listing() {
    List<PciBoard> all = boards();
    return all.isEmpty() ? "no Xilinx function in " + sysfs.devices()
        : "Xilinx functions in " + sysfs.devices() + ": " + String.join(", ",
            all.stream().map(PcieBus::describe).toList());
  }

  /**
   * Rescans, then waits until the function at {@code address} (or, with none, any function) is
   * bound to xdma with every node a device needs.
   *
   * @return the function as found
   * @throws DeviceException if it is not back by the deadline, saying what there is instead
   */
  PciBoard rescanAndWait(Optional<String> address, Duration timeout) {
    sysfs.rescan();
    long deadline = ticker.nanoTime() + timeout.toNanos();
    while (true) {
      for (PciBoard b : boards()) {
        if (address.map(b.address()::equals).orElse(true) && b.xdmaBound()
            && Boards.missing(nodeNames(b)).isEmpty()) {
          return b;
        }
      }
      if (ticker.nanoTime() - deadline >= 0) {
        String what = address.map(a -> byAddress(a).map(b -> describe(b) + (b.xdmaBound()
            ? ", missing nodes " + Boards.missing(nodeNames(b)) : ", not bound to xdma"))
            .orElse("PCI " + a + " is not in " + sysfs.devices())).orElse(listing());
        throw new DeviceException("after the rescan, " + address.map(a -> "PCI " + a
            + " did not come back").orElse("no board came back") + " bound to xdma with its"
            + " nodes within "
            + timeout.toSeconds() + " s (now: " + what + "); check dmesg, and that the xdma"
            + " driver is loaded (lsmod | grep xdma)");
      }
      pause.pause(POLL);
    }
  }

  static List<String> nodeNames(PciBoard b) {
    if (b.board().isEmpty()) {
      return List.of();
    }
    String prefix = "xdma" + b.board().getAsInt() + "_";
    return b.nodes().stream().map(p -> p.getFileName().toString().substring(prefix.length()))
        .toList();
  }
}
