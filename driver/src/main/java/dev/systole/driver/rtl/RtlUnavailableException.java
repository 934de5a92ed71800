package dev.systole.driver.rtl;

import dev.systole.driver.DeviceException;

/** The RTL simulation cannot be had here: no Verilator, no sources, or its build failed. */
public final class RtlUnavailableException extends DeviceException {
  private static final long serialVersionUID = 1L;

  public RtlUnavailableException(String message) {
    super(message);
  }
}
