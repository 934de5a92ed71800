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
          + " and of the emulator (which uses at most 2) (default: the machine's cores).")
  Integer threads;

  /** Sets the CPU engine's thread count if {@code --threads} was given. */
  void apply() {
    if (threads != null) {
      CpuEngine.configure(threads);
      // Read by the emulator when it opens (see the driver's Machine.defaultThreads).
      System.setProperty("systole.emulator.threads", Integer.toString(threads));
    }
  }
}
