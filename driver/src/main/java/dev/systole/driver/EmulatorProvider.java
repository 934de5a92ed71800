package dev.systole.driver;

import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.contract.Param;
import java.util.Locale;

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
    java.util.Map<Param, Long> changes = new java.util.EnumMap<>(Param.class);
    if (!argument.isEmpty()) {
      for (String assignment : argument.split(",")) {
        int eq = assignment.indexOf('=');
        if (eq < 0) {
          throw new IllegalArgumentException("emulator parameter \"" + assignment
              + "\" (expected PARAM=VALUE, e.g. ARRAY=8)");
        }
        String key = assignment.substring(0, eq).strip().toUpperCase(Locale.ROOT);
        long value;
        try {
          value = Long.parseLong(assignment.substring(eq + 1).strip());
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("emulator parameter " + key + " = \""
              + assignment.substring(eq + 1) + "\" is not a number", e);
        }
        if (key.equals("ARRAY")) {
          changes.put(Param.ARRAY_ROWS, value);
          changes.put(Param.ARRAY_COLS, value);
          continue;
        }
        try {
          changes.put(Param.valueOf(key), value);
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException("emulator parameter \"" + key
              + "\" is not a contract parameter (expected ARRAY or one of "
              + java.util.Arrays.toString(Param.values()) + ")", e);
        }
      }
    }
    DeviceParams params = DeviceParams.defaults().with(changes);
    return new EmulatorDevice(argument.isEmpty() ? "emulator" : "emulator:" + argument, params,
        ticker);
  }
}
