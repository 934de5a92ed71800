package dev.systole.driver;

/** A failure on or of a device, as opposed to a bad argument from the caller. */
public class DeviceException extends RuntimeException {
  public DeviceException(String message) {
    super(message);
  }

  public DeviceException(String message, Throwable cause) {
    super(message, cause);
  }
}
