package dev.systole.host.cli;

import dev.systole.driver.Device;
import dev.systole.driver.Devices;
import dev.systole.driver.Ticker;
import java.io.PrintWriter;
import picocli.CommandLine.Option;

/** The {@code --device NAME} option every device command shares. */
final class DeviceOption {
  @Option(names = "--device", paramLabel = "NAME", defaultValue = "auto",
      description = "Device to use: auto (a board if present, else the emulator), xdma:N "
          + "(board N through the XDMA driver), emulator, emulator:PARAM=VALUE,..., sim (the"
          + " RTL under Verilator); for the model commands also cpu (the whole float model in"
          + " the CPU engine, the reference). Default: ${DEFAULT-VALUE}.")
  String name;

  /** The name that runs a model in float on the CPU engine instead of on a device. */
  static final String CPU = "cpu";

  /** Whether {@code --device cpu} was given (model commands only). */
  boolean cpu() {
    return CPU.equals(name);
  }

  @Option(names = "--xdma-root", paramLabel = "DIR",
      description = "Directory holding the xdma device nodes (default /dev; a sim board's"
          + " directory to drive it).")
  java.nio.file.Path xdmaRoot;

  /** The directory the xdma nodes are looked for in: {@code --xdma-root}, else /dev. */
  java.nio.file.Path root() {
    return xdmaRoot != null ? xdmaRoot : dev.systole.driver.xdma.XdmaNodes.DEV;
  }

  /** A writer for announcements nobody should see (the output is JSON). */
  static PrintWriter silent() {
    return new PrintWriter(java.io.Writer.nullWriter());
  }

  /** Opens the device; {@code auto} says on {@code out} which one it chose. */
  Device open(PrintWriter out) {
    if (cpu()) {
      throw new IllegalArgumentException("--device cpu runs a model in float on the CPU engine;"
          + " this command needs a device (expected auto, emulator, sim or xdma:N)");
    }
    if (xdmaRoot != null) {
      System.setProperty(dev.systole.driver.XdmaProvider.ROOT_PROPERTY, xdmaRoot.toString());
    }
    return Devices.open(name, Ticker.system(), line -> {
      out.println(line);
      out.flush();
    });
  }
}
