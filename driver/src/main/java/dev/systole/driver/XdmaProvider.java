package dev.systole.driver;

import dev.systole.driver.xdma.NativeIo;
import dev.systole.driver.xdma.PciBoard;
import dev.systole.driver.xdma.XdmaNodes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Opens boards through the XDMA driver: {@code xdma:N} for board N, with its nodes under
 * {@code /dev} or under the directory in the system property {@value #ROOT_PROPERTY} (the CLI's
 * {@code --xdma-root}, where a sim board serves them). {@code xdma:N,poll} detects completion by
 * polling STATUS instead of waiting for the user interrupt.
 */
public final class XdmaProvider implements DeviceProvider {
  /** System property naming the directory that holds the xdma nodes (default /dev). */
  public static final String ROOT_PROPERTY = "systole.xdma.root";

  @Override
  public String scheme() {
    return "xdma";
  }

  @Override
  public String usage() {
    return "xdma:N[,poll] (board N through the XDMA driver; nodes in /dev or --xdma-root)";
  }

  /** The directory the xdma nodes are looked for in: {@value #ROOT_PROPERTY}, else /dev. */
  public static Path root() {
    String r = System.getProperty(ROOT_PROPERTY);
    return r == null || r.isBlank() ? XdmaNodes.DEV : Path.of(r);
  }

  @Override
  public Device open(String argument, Ticker ticker) {
    String[] parts = argument.split(",");
    int board;
    try {
      board = Integer.parseInt(parts[0].strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("xdma:" + argument + " (expected xdma:N with N the"
          + " board number, e.g. xdma:0)", e);
    }
    XdmaDevice.Completion completion = XdmaDevice.Completion.INTERRUPT;
    for (int i = 1; i < parts.length; i++) {
      if (parts[i].strip().equals("poll")) {
        completion = XdmaDevice.Completion.POLL;
      } else {
        throw new IllegalArgumentException("xdma option \"" + parts[i] + "\" (expected poll)");
      }
    }
    XdmaNodes nodes = new XdmaNodes(root(), board);
    if (!Files.exists(nodes.user())) {
      throw new DeviceNotFoundException("no board xdma:" + board + ": " + nodes.user()
          + " does not exist (" + (root().equals(XdmaNodes.DEV)
              ? "is the board in the bus, and the xdma driver loaded and bound to it?"
              : "is a sim board serving " + root() + "?") + " systole devices lists what is"
          + " there)");
    }
    return new XdmaDevice("xdma:" + board, nodes, NativeIo.libc(), ticker, completion);
  }

  /** Boards with the driver bound and their nodes present, then sim boards under the root. */
  @Override
  public List<String> present() {
    List<String> out = new ArrayList<>();
    Path root = root();
    if (root.equals(XdmaNodes.DEV)) {
      for (PciBoard b : XdmaNodes.find()) {
        if (b.xdmaBound() && b.board().isPresent()
            && Files.exists(XdmaNodes.of(b.board().getAsInt()).user())) {
          out.add("xdma:" + b.board().getAsInt());
        }
      }
    } else if (Files.exists(new XdmaNodes(root, 0).user())) {
      out.add("xdma:0");
    }
    return out;
  }
}
