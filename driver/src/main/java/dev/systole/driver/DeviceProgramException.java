package dev.systole.driver;

/** A program that the device stopped with an error status; carries the status it reported. */
public final class DeviceProgramException extends DeviceException {
  private final RunResult result;

  public DeviceProgramException(RunResult result) {
    super(result.describe());
    this.result = result;
  }

  public RunResult result() {
    return result;
  }
}
