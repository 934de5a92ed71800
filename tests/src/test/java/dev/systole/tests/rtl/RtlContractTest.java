package dev.systole.tests.rtl;

import dev.systole.driver.Device;
import dev.systole.driver.Devices;
import dev.systole.tests.DeviceContractTest;
import dev.systole.testing.Tools;
import org.junit.jupiter.api.BeforeAll;

/**
 * The whole device contract suite on the RTL: the same tests the emulator and the emulator's sim
 * board pass, now against the Verilated hardware behind XdmaDevice.
 */
class RtlContractTest extends DeviceContractTest {
  @BeforeAll
  static void needVerilator() {
    Tools.require("verilator", "verilator");
  }

  @Override
  protected Device open() {
    return Devices.open("sim");
  }
}
