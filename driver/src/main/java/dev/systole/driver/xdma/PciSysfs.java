package dev.systole.driver.xdma;

import dev.systole.driver.DeviceException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * The PCI core's controls in sysfs that a host needs around reloading a board: removing a
 * function before its bitstream changes under it, a secondary bus reset of the bridge above it
 * (a PCIe hot reset), and a rescan that finds it again so its driver binds once more. The same
 * things {@code xbutil program} and {@code xbutil reset} do through XRT's drivers, done here with
 * files only, so they work with the XDMA driver and so a test runs them on a fake tree.
 *
 * <p>The root is {@code /sys/bus/pci/devices} on a host; the rescan file is its parent's
 * {@code rescan}. A function's directory there is a link into {@code /sys/devices}, whose parent
 * directory is the bridge (root or switch port) above it. The bridge's Bridge Control register
 * (configuration offset 0x3E) holds the Secondary Bus Reset bit (6): set, held, cleared, it resets
 * everything below the bridge. Writing a bridge's configuration space needs root, as does
 * remove and rescan; a write that is refused says so.
 */
public final class PciSysfs {
  /** Offset of the Bridge Control register in a type 1 (bridge) configuration header. */
  public static final int BRIDGE_CONTROL = 0x3E;
  /** The Secondary Bus Reset bit of Bridge Control. */
  public static final int SECONDARY_BUS_RESET = 1 << 6;
  /** How long the reset is held: the PCIe base spec's minimum is 1 ms; Linux holds it 2 ms. */
  public static final Duration RESET_HOLD = Duration.ofMillis(2);
  /**
   * How long to wait after the reset before the rescan touches the function: the spec allows a
   * device 100 ms after a reset before it must answer configuration requests, and an FPGA whose
   * PCIe core comes out of reset late can need more; Linux waits 1 s.
   */
  public static final Duration RESET_SETTLE = Duration.ofSeconds(1);

  /** Waits, so that tests can pass one that only records. */
  @FunctionalInterface
  public interface Pause {
    void pause(Duration d);

    /** Sleeps; an interrupt ends the sleep early and stays set. */
    static Pause sleep() {
      return d -> {
        try {
          Thread.sleep(d.toMillis(), d.toNanosPart() % 1_000_000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      };
    }
  }

  private final Path devices;

  /** @param devices {@code /sys/bus/pci/devices}, or a copy of its shape for a test */
  public PciSysfs(Path devices) {
    this.devices = Objects.requireNonNull(devices, "devices");
  }

  public Path devices() {
    return devices;
  }

  /** The rescan control: {@code /sys/bus/pci/rescan}. */
  public Path rescanFile() {
    Path parent = devices.toAbsolutePath().getParent();
    return parent == null ? devices.resolve("../rescan") : parent.resolve("rescan");
  }

  /** Whether sysfs lists the function at {@code address} now. */
  public boolean present(String address) {
    return Files.isDirectory(devices.resolve(address));
  }

  /** The driver bound to the function now, if any. */
  public Optional<String> driver(String address) {
    Path link = devices.resolve(address).resolve("driver");
    try {
      return Files.isSymbolicLink(link)
          ? Optional.of(Files.readSymbolicLink(link).getFileName().toString())
          : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /**
   * The bridge above the function: the PCI address of its directory's parent in
   * {@code /sys/devices}, or empty when that parent is a root complex ({@code pci0000:00}) with
   * no bridge to reset.
   *
   * @throws IllegalArgumentException if sysfs does not list the function
   */
  public Optional<String> bridgeOf(String address) {
    Path function = requireFunction(address);
    Path real;
    try {
      real = function.toRealPath();
    } catch (IOException e) {
      throw new DeviceException("cannot resolve " + function + ": " + e.getMessage());
    }
    Path parent = real.getParent();
    if (parent == null || XdmaNodes.pciOrder(parent.getFileName().toString()) < 0) {
      return Optional.empty();
    }
    return Optional.of(parent.getFileName().toString());
  }

  /**
   * Removes the function from the PCI core: its driver unbinds and its nodes go.
   *
   * @throws IllegalArgumentException if sysfs does not list the function
   * @throws DeviceException if the write is refused
   */
  public void remove(String address) {
    write(requireFunction(address).resolve("remove"), "1");
  }

  /** Asks the PCI core to scan every bus again: removed functions come back, drivers bind. */
  public void rescan() {
    write(rescanFile(), "1");
  }

  /**
   * Resets everything below {@code bridge} (a PCIe hot reset): sets the Secondary Bus Reset bit
   * of its Bridge Control register, holds it {@link #RESET_HOLD}, clears it, and waits
   * {@link #RESET_SETTLE}. Remove the functions below it first: they do not survive it.
   */
  public void secondaryBusReset(String bridge, Pause pause) {
    Path config = requireFunction(bridge).resolve("config");
    try (FileChannel ch = FileChannel.open(config, StandardOpenOption.READ,
        StandardOpenOption.WRITE)) {
      if (ch.size() < BRIDGE_CONTROL + 2) {
        throw new DeviceException(String.format("%s is %d bytes, too short for a bridge's"
            + " configuration header (expected at least %d)", config, ch.size(),
            BRIDGE_CONTROL + 2));
      }
      ByteBuffer b = ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN);
      ch.read(b, BRIDGE_CONTROL);
      int control = b.getShort(0) & 0xFFFF;
      writeControl(ch, control | SECONDARY_BUS_RESET);
      pause.pause(RESET_HOLD);
      writeControl(ch, control & ~SECONDARY_BUS_RESET);
      pause.pause(RESET_SETTLE);
    } catch (AccessDeniedException e) {
      throw new DeviceException("cannot write " + config + ": permission denied (a secondary"
          + " bus reset needs root: run with sudo)");
    } catch (IOException e) {
      throw new DeviceException("cannot reset the bus below " + bridge + " through " + config
          + ": " + e.getMessage());
    }
  }

  private static void writeControl(FileChannel ch, int value) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN);
    b.putShort(0, (short) value);
    ch.write(b, BRIDGE_CONTROL);
  }

  private Path requireFunction(String address) {
    if (XdmaNodes.pciOrder(address) < 0) {
      throw new IllegalArgumentException("\"" + address + "\" is not a PCI address (expected"
          + " domain:bus:device.function, e.g. 0000:03:00.0)");
    }
    Path dir = devices.resolve(address);
    if (!Files.isDirectory(dir)) {
      throw new IllegalArgumentException("no PCI function " + address + " in " + devices);
    }
    return dir;
  }

  private static void write(Path file, String text) {
    try {
      Files.write(file, text.getBytes(StandardCharsets.US_ASCII), StandardOpenOption.WRITE);
    } catch (AccessDeniedException e) {
      throw new DeviceException("cannot write " + text + " to " + file + ": permission denied"
          + " (removing and rescanning PCI functions needs root: run with sudo)");
    } catch (NoSuchFileException e) {
      throw new DeviceException("cannot write " + text + " to " + file + ": no such file (is"
          + " sysfs mounted?)");
    } catch (IOException e) {
      throw new DeviceException("cannot write " + text + " to " + file + ": " + e.getMessage());
    }
  }
}
