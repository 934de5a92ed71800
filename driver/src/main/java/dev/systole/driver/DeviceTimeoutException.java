package dev.systole.driver;

import java.time.Duration;

/** A device that did not finish in time; it has been reset by the time this is thrown. */
public final class DeviceTimeoutException extends DeviceException {
  private final Duration timeout;

  public DeviceTimeoutException(String message, Duration timeout) {
    super(message);
    this.timeout = timeout;
  }

  public Duration timeout() {
    return timeout;
  }
}
