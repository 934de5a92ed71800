package dev.systole.driver;

/**
 * The device asked for by name is not there at all (no such board, no nodes), as opposed to a
 * device that is there and fails: a bring-up script tells "plug it in, load the driver" from "the
 * board is broken" by this type.
 */
public final class DeviceNotFoundException extends DeviceException {
  public DeviceNotFoundException(String message) {
    super(message);
  }
}
