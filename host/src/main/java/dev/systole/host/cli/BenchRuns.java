package dev.systole.host.cli;

import dev.systole.driver.Device;
import dev.systole.driver.contract.DeviceParams;
import java.io.PrintWriter;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;

/**
 * The measured runs of a benchmark, and the figures every {@code systole bench} command reports
 * alike. Every measured run's host times are kept, so the median and the 99th percentile come
 * from the runs themselves rather than from a mean that one slow run skews. The device figures
 * are the last run's: a program takes the same cycles every time it runs. Warm-up runs (JIT
 * compilation, a program compiled on first use) are the command's to make before, so that what
 * it samples around the measured runs alone, such as a simulator's clock, leaves them out.
 *
 * @param <R> what one run returns
 */
final class BenchRuns<R> {
  private final R last;
  private final long[] wall;
  private final long[] overhead;

  private BenchRuns(R last, long[] wall, long[] overhead) {
    this.last = last;
    this.wall = wall;
    this.overhead = overhead;
  }

  /**
   * Runs {@code run} {@code iterations} times (the commands check that it is at least one),
   * keeping each run's host wall time and the part of it not spent waiting for the device.
   */
  static <R> BenchRuns<R> measure(int iterations, Supplier<R> run, ToLongFunction<R> wallNanos,
      ToLongFunction<R> overheadNanos) {
    long[] wall = new long[iterations];
    long[] overhead = new long[iterations];
    R last = null;
    for (int i = 0; i < iterations; i++) {
      last = run.get();
      wall[i] = wallNanos.applyAsLong(last);
      overhead[i] = overheadNanos.applyAsLong(last);
    }
    return new BenchRuns<>(last, wall, overhead);
  }

  /** What the last measured run returned. */
  R last() {
    return last;
  }

  int iterations() {
    return wall.length;
  }

  /** The {@code p}th percentile of the runs' host wall times, in nanoseconds. */
  long wall(int p) {
    return percentile(wall, p);
  }

  /** The {@code p}th percentile of the runs' host times not spent waiting for the device. */
  long overhead(int p) {
    return percentile(overhead, p);
  }

  /** "median 1.23 ms, p99 1.40 ms" of the host wall times. */
  String wallTimes() {
    return medianAndP99(wall);
  }

  /** "median 12.3 us, p99 20.1 us" of the host times not spent waiting for the device. */
  String overheadTimes() {
    return medianAndP99(overhead);
  }

  /**
   * Prints the first line of a report: "bench {@code what} on DEVICE (array RxC, F MHz), N
   * iterations".
   */
  void printHeadline(PrintWriter out, String what, Device device) {
    DeviceParams p = device.info().params();
    out.printf(Locale.ROOT, "bench %s on %s (array %dx%d, %d MHz), %d iterations%n", what,
        device.name(), p.arrayRows(), p.arrayCols(), p.clockKhz() / 1000, iterations());
  }

  /** Prints the array utilization line of a report. */
  static void printUtilization(PrintWriter out, double utilization, DeviceParams p) {
    out.printf(Locale.ROOT, "  array utilization  %.1f %% (useful MACs / (cycles x %d))%n",
        utilization * 100, p.macsPerCycle());
  }

  /** Useful MACs over what the array could do in {@code cycles}; 0 for no cycles. */
  static double utilization(long usefulMacs, long cycles, DeviceParams p) {
    return cycles == 0 ? 0 : usefulMacs / ((double) cycles * p.macsPerCycle());
  }

  /** The JSON fields naming the device: {@code device, backend, array, clock_khz}. */
  static Map<String, Object> deviceJson(Device device) {
    DeviceParams p = device.info().params();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("device", device.name());
    m.put("backend", device.info().backend());
    m.put("array", p.arrayRows());
    m.put("clock_khz", p.clockKhz());
    return m;
  }

  /** The JSON fields of a run's device cost: {@code device_cycles, device_seconds, utilization}. */
  static Map<String, Object> cyclesJson(long cycles, double utilization, DeviceParams p) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("device_cycles", cycles);
    m.put("device_seconds", cycles * p.secondsPerCycle());
    m.put("utilization", utilization);
    return m;
  }

  /** The {@code p}th percentile (nearest rank) of {@code values}. */
  static long percentile(long[] values, int p) {
    long[] sorted = values.clone();
    Arrays.sort(sorted);
    int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
  }

  /** Nanoseconds as milliseconds from 1 ms up, else as microseconds. */
  static String time(long nanos) {
    if (nanos >= 1_000_000) {
      return String.format(Locale.ROOT, "%.2f ms", nanos / 1e6);
    }
    return String.format(Locale.ROOT, "%.1f us", nanos / 1e3);
  }

  private static String medianAndP99(long[] nanos) {
    return "median " + time(percentile(nanos, 50)) + ", p99 " + time(percentile(nanos, 99));
  }
}
