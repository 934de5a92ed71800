package dev.systole.host.cli;

import dev.systole.host.cpu.CpuEngine;
import picocli.CommandLine.Option;

/**
 * {@code --threads N}: the CPU engine's thread pool and the emulator's threads, for the commands
 * that run models.
 */
final class ThreadsOption {
  @Option(names = "--threads", paramLabel = "N",
      description = "Threads of the CPU engine (ONNX Runtime), shared by every CPU segment,"
          + " and of the emulator (which uses at most 2), 1 to " + ThreadsOption.MAX
          + " (default: the machine's cores).")
  Integer threads;

  /** The most threads asked for: far more than any host has cores, and few enough to start. */
  static final int MAX = 256;

  /**
   * Sets the CPU engine's thread count if {@code --threads} was given.
   *
   * @throws IllegalArgumentException if it is outside 1 to {@link #MAX}
   */
  void apply() {
    if (threads != null) {
      if (threads < 1 || threads > MAX) {
        throw new IllegalArgumentException("--threads " + threads + " (expected 1 to " + MAX
            + ")");
      }
      CpuEngine.configure(threads);
      // Read by the emulator when it opens (see the driver's Machine.defaultThreads).
      System.setProperty("systole.emulator.threads", Integer.toString(threads));
    }
  }
}
