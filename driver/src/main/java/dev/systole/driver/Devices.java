package dev.systole.driver;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.function.Consumer;

/**
 * Opens devices by name: {@code emulator}, {@code auto}, and whatever schemes the installed
 * {@link DeviceProvider}s add ({@code xdma:N}, {@code sim}). {@code auto} opens the first device
 * any provider reports present and otherwise falls back to the emulator, saying which it chose.
 */
public final class Devices {
  private Devices() {}

  /** The providers found on the class path, in a stable order. */
  public static List<DeviceProvider> providers() {
    List<DeviceProvider> out = new ArrayList<>();
    ServiceLoader.load(DeviceProvider.class, Devices.class.getClassLoader()).forEach(out::add);
    out.sort(java.util.Comparator.comparing(DeviceProvider::scheme));
    return out;
  }

  public static Device open(String name) {
    return open(name, Ticker.system(), line -> { });
  }

  /**
   * Opens {@code name}.
   *
   * @param announce told, in one line, which device {@code auto} chose and why
   * @throws IllegalArgumentException if no provider knows the name's scheme
   */
  public static Device open(String name, Ticker ticker, Consumer<String> announce) {
    if (name.equals("auto")) {
      return openAuto(ticker, announce);
    }
    int colon = name.indexOf(':');
    String scheme = colon < 0 ? name : name.substring(0, colon);
    String argument = colon < 0 ? "" : name.substring(colon + 1);
    List<DeviceProvider> providers = providers();
    for (DeviceProvider p : providers) {
      if (p.scheme().equals(scheme)) {
        return p.open(argument, ticker);
      }
    }
    StringBuilder known = new StringBuilder("auto");
    for (DeviceProvider p : providers) {
      known.append(", ").append(p.usage());
    }
    throw new IllegalArgumentException("unknown device \"" + name + "\" (expected one of: "
        + known + ")");
  }

  private static Device openAuto(Ticker ticker, Consumer<String> announce) {
    List<String> looked = new ArrayList<>();
    for (DeviceProvider p : providers()) {
      if (p.scheme().equals("emulator")) {
        continue;
      }
      for (String candidate : p.present()) {
        announce.accept("auto: using " + candidate);
        return open(candidate, ticker, announce);
      }
      looked.add(p.scheme());
    }
    announce.accept("auto: no board found" + (looked.isEmpty() ? ""
        : " (looked for " + String.join(", ", looked) + ")") + "; using the emulator");
    return open("emulator", ticker, announce);
  }
}
