package dev.systole.driver;

import dev.systole.driver.contract.DeviceParams;

/**
 * Opens {@code emulator} (the default build) or {@code emulator:PARAM=VALUE,...} with some
 * parameters changed, for example {@code emulator:ARRAY=8,HBM_MB=256}. {@code ARRAY} sets both
 * ARRAY_ROWS and ARRAY_COLS, which must be equal.
 */
public final class EmulatorProvider implements DeviceProvider {
  @Override
  public String scheme() {
    return "emulator";
  }

  @Override
  public String usage() {
    return "emulator[:PARAM=VALUE,...] (the accelerator emulated in this process; ARRAY=N sets both"
        + " array dimensions)";
  }

  @Override
  public Device open(String argument, Ticker ticker) {
    DeviceParams params = DeviceParams.defaults().with(argument);
    return new EmulatorDevice(argument.isEmpty() ? "emulator" : "emulator:" + argument, params,
        ticker);
  }
}
