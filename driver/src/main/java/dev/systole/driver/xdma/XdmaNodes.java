package dev.systole.driver.xdma;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.stream.Stream;

/**
 * Where the XDMA driver puts the nodes of board N, and which boards there are. The names are the
 * driver's ({@code xdmaN_user}, {@code xdmaN_h2c_C}, {@code xdmaN_c2h_C}, {@code xdmaN_events_I});
 * the directory is a parameter because a sim board serves the same names from any directory.
 *
 * <p>Board numbers: the driver numbers boards in the order it probes them, and its node names
 * carry only that number, not the PCI address. {@link #find} numbers the boards bound to xdma by
 * PCI address instead, which is the probe order whenever the driver binds the boards in one pass
 * at load time (the usual case); a board bound later by hand, or after a rescan, can take a number
 * out of that order. The driver's XDMA_IOCINFO ioctl cannot settle it: the driver versions in use
 * report domain 0 and take the bus number from the wrong field. So {@link PciBoard#nodes} lists
 * the nodes found for each number next to the address, for a user to check.
 *
 * @param root the directory of the nodes, {@code /dev} for a real board
 * @param board the board number N
 */
public record XdmaNodes(Path root, int board) {
  /** The directory the xdma driver's nodes appear in. */
  public static final Path DEV = Path.of("/dev");

  /** The directory sysfs lists PCI functions in. */
  public static final Path SYS_BUS_PCI_DEVICES = Path.of("/sys/bus/pci/devices");

  /** The PCI vendor ID of Xilinx. */
  public static final int XILINX_VENDOR = 0x10ee;

  /** The name the xdma driver registers with the PCI core. */
  public static final String DRIVER = "xdma";

  /** The most DMA channels the XDMA IP has each way. */
  public static final int CHANNELS = 4;

  /** The most user interrupts the XDMA IP has. */
  public static final int USER_INTERRUPTS = 16;

  public XdmaNodes {
    Objects.requireNonNull(root, "root");
    if (board < 0) {
      throw new IllegalArgumentException("board number " + board + " (expected >= 0)");
    }
  }

  /** The nodes of board {@code board} in {@link #DEV}. */
  public static XdmaNodes of(int board) {
    return new XdmaNodes(DEV, board);
  }

  /** {@code xdmaN}, the prefix of every node of the board. */
  public String name() {
    return "xdma" + board;
  }

  /** The AXI4-Lite register window. */
  public Path user() {
    return root.resolve(name() + "_user");
  }

  /** Host-to-card DMA channel {@code channel}. */
  public Path h2c(int channel) {
    return root.resolve(name() + "_h2c_" + check("h2c channel", channel, CHANNELS));
  }

  /** Card-to-host DMA channel {@code channel}. */
  public Path c2h(int channel) {
    return root.resolve(name() + "_c2h_" + check("c2h channel", channel, CHANNELS));
  }

  /** User interrupt {@code interrupt}. */
  public Path events(int interrupt) {
    return root.resolve(name() + "_events_" + check("user interrupt", interrupt,
        USER_INTERRUPTS));
  }

  private static int check(String what, int value, int count) {
    if (value < 0 || value >= count) {
      throw new IllegalArgumentException(what + " " + value + " (expected 0.." + (count - 1)
          + ")");
    }
    return value;
  }

  /** {@link #find(Path, Path)} in {@link #SYS_BUS_PCI_DEVICES} and {@link #DEV}. */
  public static List<PciBoard> find() {
    return find(SYS_BUS_PCI_DEVICES, DEV);
  }

  /**
   * The Xilinx PCI functions listed in {@code sysBusPci}, in PCI address order, each with its
   * board number and existing nodes in {@code xdmaRoot} if it is bound to xdma. None if
   * {@code sysBusPci} does not exist (no sysfs, as in some containers).
   *
   * @throws UncheckedIOException if {@code sysBusPci} or {@code xdmaRoot} cannot be listed
   */
  public static List<PciBoard> find(Path sysBusPci, Path xdmaRoot) {
    record Function(Path dir, long order, int vendor, int device) {}
    List<Function> functions = new ArrayList<>();
    for (Path dir : list(sysBusPci)) {
      long order = pciOrder(dir.getFileName().toString());
      OptionalInt vendor = readHex(dir.resolve("vendor"));
      OptionalInt device = readHex(dir.resolve("device"));
      if (order >= 0 && vendor.orElse(-1) == XILINX_VENDOR && device.isPresent()) {
        functions.add(new Function(dir, order, vendor.getAsInt(), device.getAsInt()));
      }
    }
    functions.sort(Comparator.comparingLong(Function::order));
    List<Path> nodes = list(xdmaRoot);
    List<PciBoard> boards = new ArrayList<>();
    int next = 0;
    for (Function f : functions) {
      Optional<String> driver = driver(f.dir());
      OptionalInt board = OptionalInt.empty();
      List<Path> own = List.of();
      if (driver.filter(DRIVER::equals).isPresent()) {
        board = OptionalInt.of(next);
        String prefix = "xdma" + next + "_";
        own = nodes.stream().filter(p -> p.getFileName().toString().startsWith(prefix)).toList();
        next++;
      }
      Path dir = f.dir();
      boards.add(new PciBoard(dir.getFileName().toString(), f.vendor(), f.device(), driver,
          read(dir.resolve("current_link_speed")), read(dir.resolve("max_link_speed")),
          readInt(dir.resolve("current_link_width")), readInt(dir.resolve("max_link_width")),
          board, own));
    }
    return boards;
  }

  /** The entries of {@code dir} by name; none if it does not exist. */
  private static List<Path> list(Path dir) {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> entries = Files.list(dir)) {
      return entries.sorted(Comparator.comparing(p -> p.getFileName().toString())).toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + dir, e);
    }
  }

  /**
   * {@code domain:bus:device.function} in hexadecimal as one number that sorts like the address,
   * or -1 if {@code name} is not a PCI address. The domain can have more than 4 digits (VMD
   * domains have 5), which is why the order is not the names' string order.
   */
  static long pciOrder(String name) {
    String[] parts = name.split("[:.]");
    if (parts.length != 4) {
      return -1;
    }
    try {
      long domain = Long.parseLong(parts[0], 16);
      int bus = Integer.parseInt(parts[1], 16);
      int device = Integer.parseInt(parts[2], 16);
      int function = Integer.parseInt(parts[3], 16);
      if (domain < 0 || domain > 0xFFFFFFFFL || bus < 0 || bus > 0xFF || device < 0
          || device > 0x1F || function < 0 || function > 7) {
        return -1;
      }
      return domain << 16 | bus << 8 | device << 3 | function;
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** The file name of the {@code driver} link's target: the bound driver's name. */
  private static Optional<String> driver(Path dir) {
    Path link = dir.resolve("driver");
    if (!Files.isSymbolicLink(link)) {
      return Optional.empty();
    }
    try {
      return Optional.of(Files.readSymbolicLink(link).getFileName().toString());
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /**
   * A sysfs attribute's text without the newline; empty if the file is missing or unreadable
   * (some attributes fail to read on some devices, and none of these is essential).
   */
  static Optional<String> read(Path file) {
    try {
      return Optional.of(Files.readString(file).strip());
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  static OptionalInt readInt(Path file) {
    Optional<String> text = read(file);
    try {
      return text.isPresent() ? OptionalInt.of(Integer.parseInt(text.get())) : OptionalInt.empty();
    } catch (NumberFormatException e) {
      return OptionalInt.empty();
    }
  }

  /** A {@code 0x10ee}-style attribute. */
  private static OptionalInt readHex(Path file) {
    Optional<String> text = read(file);
    if (text.isEmpty() || !text.get().startsWith("0x")) {
      return OptionalInt.empty();
    }
    try {
      return OptionalInt.of(Integer.parseInt(text.get().substring(2), 16));
    } catch (NumberFormatException e) {
      return OptionalInt.empty();
    }
  }
}
