package dev.systole.driver.simboard;

import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.emulator.Accelerator;
import dev.systole.driver.emulator.CardMemory;
import java.io.IOException;
import java.nio.file.Path;

/**
 * What runs behind a sim board's nodes: an implementation of the contract's register window. The
 * board turns host stores into {@link #writeRegister} calls with the contract's semantics and
 * mirrors {@link #readRegister} values into the window.
 */
public interface SimEngine extends AutoCloseable {
  /** The engine's name in {@code simboard.json} and messages: {@code emulator} or {@code rtl}. */
  String name();

  /** BUILD_ID as the engine reports it. */
  int buildId();

  int readRegister(int offset);

  void writeRegister(int offset, int value);

  /** Called (on any thread) each time the interrupt line rises. */
  void setInterruptListener(Runnable listener);

  @Override
  void close();

  /** Makes the engine of a board, given the board's parameters and its card memory. */
  @FunctionalInterface
  interface Factory {
    SimEngine create(DeviceParams params, Path memoryFile, CardMemory memory) throws IOException;
  }

  /** The Java emulator, as in-process devices use it: BUILD_ID 0. */
  static Factory emulator() {
    return emulator(0);
  }

  /**
   * The Java emulator reporting {@code buildId} in BUILD_ID, as a board built with that id does:
   * for testing what the host makes of a build id (finding the build's manifest).
   */
  static Factory emulator(int buildId) {
    return (params, file, memory) -> {
      Accelerator acc = new Accelerator(params, memory, buildId);
      return new SimEngine() {
        @Override
        public String name() {
          return "emulator";
        }

        @Override
        public int buildId() {
          return buildId;
        }

        @Override
        public int readRegister(int offset) {
          return acc.readRegister(offset);
        }

        @Override
        public void writeRegister(int offset, int value) {
          acc.writeRegister(offset, value);
        }

        @Override
        public void setInterruptListener(Runnable listener) {
          acc.setInterruptListener(listener);
        }

        @Override
        public void close() {
          acc.close();
        }
      };
    };
  }
}
