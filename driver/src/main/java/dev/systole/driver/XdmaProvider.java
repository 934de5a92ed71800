package dev.systole.driver;

import dev.systole.driver.simboard.SimBoard;
import dev.systole.driver.xdma.NativeIo;
import dev.systole.driver.xdma.PciBoard;
import dev.systole.driver.xdma.XdmaNodes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

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
    checkSimBoardServes(root());
    return new XdmaDevice("xdma:" + board, nodes, NativeIo.libc(), ticker, completion);
  }

  /**
   * Refuses the nodes in {@code root} if they are a sim board's whose process is gone: the
   * register window is a plain file that outlives the board, and would go on answering with
   * the values it last held.
   *
   * @throws DeviceNotFoundException naming the directory and the command that serves it again
   */
  static void checkSimBoardServes(Path root) {
    if (root.equals(XdmaNodes.DEV) || !SimBoard.isSimBoardDirectory(root)) {
      return;
    }
    OptionalLong pid;
    try {
      pid = SimBoard.servingProcess(root);
    } catch (IOException e) {
      throw new DeviceException("the sim board in " + root + ": cannot read its "
          + SimBoard.PID_FILE + ": " + e.getMessage(), e);
    }
    if (pid.isEmpty()) {
      throw new DeviceNotFoundException("the sim board in " + root + " is gone: no process"
          + " serves it (" + SimBoard.PID_FILE + " is missing or names a process that has"
          + " ended), so its nodes hold stale values (expected a serving board: start one with"
          + " systole simboard --dir " + root + ")");
    }
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
    } else if (Files.exists(new XdmaNodes(root, 0).user()) && (!SimBoard.isSimBoardDirectory(root)
        || servedQuietly(root))) {
      out.add("xdma:0");
    }
    return out;
  }

  private static boolean servedQuietly(Path root) {
    try {
      return SimBoard.servingProcess(root).isPresent();
    } catch (IOException e) {
      return false;
    }
  }
}
