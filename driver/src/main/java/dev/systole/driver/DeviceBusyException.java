package dev.systole.driver;

/**
 * A device found running a program that this process did not start: a host that stopped or was
 * killed in the middle of a run leaves the accelerator BUSY, and nothing but a reset ends that.
 * A type of its own so that the command line can name the recovering command with the device
 * options the user gave, and so a caller can tell this from its own program still running.
 */
public final class DeviceBusyException extends DeviceException {
  private final String device;
  private final int status;

  public DeviceBusyException(String device, int status) {
    super(String.format("%s is BUSY (STATUS 0x%08x) with a program this process did not start,"
        + " left running by a host that stopped or was killed during a run (expected an idle"
        + " device; a soft reset aborts that program)", device, status));
    this.device = device;
    this.status = status;
  }

  /** The name of the device, e.g. {@code xdma:0}. */
  public String device() {
    return device;
  }

  /** The STATUS register as it was read. */
  public int status() {
    return status;
  }
}
