package dev.systole.driver;

import dev.systole.driver.contract.DeviceParams;

/** What a device says about itself when opened: identification and build parameters. */
public record DeviceInfo(String name, String backend, int versionMajor, int versionMinor,
    int buildId, DeviceParams params) {

  @Override
  public String toString() {
    return String.format("%s (%s): contract %d.%d, build 0x%08x, %s", name, backend,
        versionMajor, versionMinor, buildId, params);
  }
}
