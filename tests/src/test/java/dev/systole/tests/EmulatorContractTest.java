package dev.systole.tests;

import dev.systole.driver.Device;
import dev.systole.driver.Devices;

/** The device contract on the in-process emulator. */
class EmulatorContractTest extends DeviceContractTest {
  @Override
  protected Device open() {
    return Devices.open("emulator");
  }
}
