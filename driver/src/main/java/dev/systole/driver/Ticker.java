package dev.systole.driver;

/**
 * A source of nanosecond time for deadlines. Injected so that timeout behaviour can be tested
 * deterministically and instantly with a ticker the test advances.
 */
@FunctionalInterface
public interface Ticker {
  long nanoTime();

  static Ticker system() {
    return System::nanoTime;
  }
}
