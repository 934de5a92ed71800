package dev.systole.driver;

import java.util.List;

/**
 * Opens devices of one kind, named {@code SCHEME} or {@code SCHEME:ARGUMENT}. Backends register
 * a provider through {@link java.util.ServiceLoader}, so a module that adds a backend (a sim board
 * built from the RTL, say) plugs into {@link Devices#open} without the driver knowing it.
 */
public interface DeviceProvider {
  /** The part of a device name before the colon, such as {@code emulator} or {@code xdma}. */
  String scheme();

  /** One line on what this provider opens and how its argument is written. */
  String usage();

  /**
   * Opens the device {@code scheme:argument} ({@code argument} is empty when there is none).
   *
   * @throws IllegalArgumentException if the argument is malformed
   * @throws DeviceException if the device cannot be opened
   */
  Device open(String argument, Ticker ticker);

  /**
   * Names of devices of this kind that are present now, for {@code auto}: real hardware first.
   * The emulator, always present, returns nothing here; {@code auto} falls back to it.
   */
  default List<String> present() {
    return List.of();
  }
}
