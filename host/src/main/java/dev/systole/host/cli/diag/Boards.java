package dev.systole.host.cli.diag;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.systole.driver.simboard.SimBoard;
import dev.systole.driver.xdma.PciBoard;
import dev.systole.driver.xdma.PcieLink;
import dev.systole.driver.xdma.XdmaNodes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What is plugged in: Xilinx PCI functions from sysfs with their driver, nodes and link, and sim
 * boards from their directories. Both roots are parameters, so a test hands in a fake sysfs tree,
 * and a sim board is found by the same node names a board has. Nothing here opens a device:
 * listing must work when a board is too broken to open.
 */
public final class Boards {
  /** The nodes a board must have for {@code xdma:N} to open it (DMA channel 0, interrupt 0). */
  static final List<String> REQUIRED = List.of("user", "h2c_0", "c2h_0", "events_0");
  private static final JsonFactory JSON = new JsonFactory();

  private Boards() {}

  /** A sim board's directory as found: who serves it, what it injects, its nodes and link. */
  public record Sim(Path directory, OptionalLong pid, boolean serving, Optional<String> engine,
      List<String> faults, List<String> nodes, List<String> missingNodes, PcieLink link) {}

  /** Where a device's link state was read, and the state; empty for a device without a link. */
  public record DeviceLink(String source, PcieLink link) {}

  /** The Xilinx functions in {@code sysfs}, with the xdma nodes found in {@code dev}. */
  public static List<PciBoard> pci(Path sysfs, Path dev) {
    return XdmaNodes.find(sysfs, dev);
  }

  /** Of {@link #REQUIRED}, those not in {@code present}. */
  public static List<String> missing(List<String> present) {
    return REQUIRED.stream().filter(n -> !present.contains(n)).toList();
  }

  /** The sim board in {@code dir}: board 0's nodes, its pid file, simboard.json and pci/. */
  public static Sim sim(Path dir) {
    List<String> nodes = new ArrayList<>();
    for (String n : List.of("user", "control", "h2c_0", "c2h_0", "events_0")) {
      if (Files.exists(dir.resolve("xdma0_" + n))) {
        nodes.add(n);
      }
    }
    OptionalLong pid = OptionalLong.empty();
    try {
      pid = OptionalLong.of(Long.parseLong(Files.readString(dir.resolve(SimBoard.PID_FILE))
          .strip()));
    } catch (IOException | NumberFormatException e) {
      // No pid file: the board is not serving (or never was).
    }
    boolean serving = pid.isPresent() && ProcessHandle.of(pid.getAsLong())
        .map(ProcessHandle::isAlive).orElse(false);
    Optional<String> engine = Optional.empty();
    List<String> faults = new ArrayList<>();
    try (JsonParser p = JSON.createParser(dir.resolve(SimBoard.JSON_FILE).toFile())) {
      if (p.nextToken() == JsonToken.START_OBJECT) {
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          String field = p.currentName();
          JsonToken value = p.nextToken();
          if (field.equals("engine") && value == JsonToken.VALUE_STRING) {
            engine = Optional.of(p.getText());
          } else if (field.equals("faults") && value == JsonToken.START_ARRAY) {
            while (p.nextToken() != JsonToken.END_ARRAY) {
              if (p.currentToken() == JsonToken.VALUE_STRING) {
                faults.add(p.getText());
              }
              p.skipChildren();
            }
          } else {
            p.skipChildren();
          }
        }
      }
    } catch (IOException e) {
      // No simboard.json, or not one a sim board wrote (it writes it whole, by a rename): the
      // directory says nothing about its engine and faults.
      engine = Optional.empty();
      faults.clear();
    }
    return new Sim(dir, pid, serving, engine, faults, nodes, missing(nodes),
        PcieLink.read(dir.resolve(SimBoard.PCI_DIR)));
  }

  /**
   * The link of the device named {@code name}: for {@code xdma:N} with its nodes in a sim board's
   * directory, that board's {@code pci/}; for {@code xdma:N} in {@code /dev}, the sysfs function
   * of board N. Empty for the emulator, a {@code sim} device, or a board sysfs does not list.
   */
  public static Optional<DeviceLink> linkOf(String name, Path xdmaRoot, Path sysfs) {
    OptionalInt board = boardNumber(name);
    if (board.isEmpty()) {
      return Optional.empty();
    }
    Path pci = xdmaRoot.resolve(SimBoard.PCI_DIR);
    if (Files.isDirectory(pci)) {
      return Optional.of(new DeviceLink("sim board " + xdmaRoot, PcieLink.read(pci)));
    }
    for (PciBoard b : pci(sysfs, xdmaRoot)) {
      if (b.board().orElse(-1) == board.getAsInt()) {
        return Optional.of(new DeviceLink(String.format("PCI %s (%04x:%04x) in %s", b.address(),
            b.vendor(), b.device(), sysfs), b.link()));
      }
    }
    return Optional.empty();
  }

  /** N of {@code xdma:N} or {@code xdma:N,poll}; empty for other names. */
  public static OptionalInt boardNumber(String name) {
    Matcher m = Pattern.compile("xdma:(\\d+)(,.*)?").matcher(name);
    return m.matches() ? OptionalInt.of(Integer.parseInt(m.group(1))) : OptionalInt.empty();
  }

  /** {@code ok}, {@code degraded}, {@code down} or {@code unknown}, as the JSON says. */
  public static String state(PcieLink link) {
    return !link.known() ? "unknown" : link.down() ? "down" : link.degraded() ? "degraded" : "ok";
  }

  /** One line on the link, in words. */
  public static String describe(PcieLink link) {
    return switch (state(link)) {
      case "unknown" -> "link state unknown (no link attributes)";
      case "down" -> "DOWN: the link has not trained (now " + link.now() + ", at most "
          + link.max() + ")";
      case "degraded" -> "DEGRADED: " + link.now() + ", below the " + link.max()
          + " both ends support; DMA is limited to the slower link";
      default -> link.now() + ", the most both ends support";
    };
  }
}
