package dev.systole.host.cli;

import dev.systole.driver.Device;
import dev.systole.driver.Devices;
import dev.systole.driver.Ticker;
import java.io.PrintWriter;
import picocli.CommandLine.Option;

/** The {@code --device NAME} option every device command shares. */
final class DeviceOption {
  @Option(names = "--device", paramLabel = "NAME", defaultValue = "auto",
      description = "Device to use: auto (a board if present, else the emulator), emulator, "
          + "emulator:PARAM=VALUE,... Default: ${DEFAULT-VALUE}.")
  String name;

  /** Opens the device; {@code auto} says on {@code out} which one it chose. */
  Device open(PrintWriter out) {
    return Devices.open(name, Ticker.system(), line -> {
      out.println(line);
      out.flush();
    });
  }
}
