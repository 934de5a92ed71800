package dev.systole.driver;

import dev.systole.driver.contract.Counter;
import dev.systole.driver.contract.Reg;
import io.netty.buffer.ByteBuf;
import java.time.Duration;
import java.util.Map;

/**
 * One accelerator, as the runtime uses it: registers, DMA to and from card memory, running a
 * program, counters and reset. Backends implement it for the in-process emulator and for boards
 * (and sim boards) reached through the XDMA driver; the runtime never knows which it has.
 *
 * <p>Every operation checks its arguments before touching the device: a register offset outside
 * the window, a card range outside HBM or a buffer range outside the buffer is an exception naming
 * the value and the allowed range, and nothing is read or written. Device-side failures are
 * {@link DeviceException}s.
 */
public interface Device extends AutoCloseable {
  /** The name this device was opened by, such as {@code emulator} or {@code xdma:0}. */
  String name();

  /** Identification and parameters, read back from the device when it was opened. */
  DeviceInfo info();

  /**
   * Reads the 32-bit register at byte {@code offset} of the register window.
   *
   * @throws IndexOutOfBoundsException if the offset is outside the window or not 4-byte aligned
   */
  int readRegister(int offset);

  /**
   * Writes the 32-bit register at byte {@code offset} of the register window.
   *
   * @throws IndexOutOfBoundsException if the offset is outside the window or not 4-byte aligned
   */
  void writeRegister(int offset, int value);

  default int read(Reg reg) {
    return readRegister(reg.offset());
  }

  default void write(Reg reg, int value) {
    writeRegister(reg.offset(), value);
  }

  /**
   * Copies {@code length} bytes of {@code src}, from absolute index {@code srcIndex}, to card
   * memory at {@code cardAddress}. The buffer's indices are not changed.
   *
   * @throws IndexOutOfBoundsException if either range is out of bounds
   */
  void dmaWrite(long cardAddress, ByteBuf src, int srcIndex, int length);

  /**
   * Copies {@code length} bytes of card memory at {@code cardAddress} into {@code dst} at absolute
   * index {@code dstIndex}. The buffer's indices are not changed.
   *
   * @throws IndexOutOfBoundsException if either range is out of bounds
   */
  void dmaRead(long cardAddress, ByteBuf dst, int dstIndex, int length);

  /** Writes the readable bytes of {@code src} to {@code cardAddress}; indices unchanged. */
  default void dmaWrite(long cardAddress, ByteBuf src) {
    dmaWrite(cardAddress, src, src.readerIndex(), src.readableBytes());
  }

  /**
   * Starts the program of {@code instructions} instructions at {@code programAddress}, which must
   * already be in card memory.
   *
   * @throws IllegalStateException if a program is running
   */
  void start(long programAddress, int instructions);

  /**
   * Waits for the running program to end and reports how. A program that fails on the device is
   * reported in the result, not thrown: see {@link RunResult#throwIfFailed()}.
   *
   * @throws DeviceTimeoutException if it has not ended within {@code timeout}; the device has then
   *     been reset
   */
  RunResult await(Duration timeout);

  /**
   * Waits for the running program to end for as long as it makes progress, and reports how. It
   * fails only when no instruction has issued (PC unchanged) for {@code stall}. A runtime uses
   * this rather than a total deadline because a program's wall time depends on the device's
   * speed, which it cannot know: a board runs 3·10^8 cycles a second, the RTL under Verilator
   * about 10^5, so a program a board ends in 50 ms takes minutes there. The ISA has no branches,
   * so a program that keeps issuing always ends; a hang is still caught within about two
   * {@code stall}s.
   *
   * @throws DeviceTimeoutException if no instruction issued for {@code stall}; the device has then
   *     been reset
   */
  RunResult awaitProgress(Duration stall);

  /** Starts a program, waits for it and throws if it failed. */
  default RunResult run(long programAddress, int instructions, Duration timeout) {
    start(programAddress, instructions);
    return await(timeout).throwIfFailed();
  }

  /**
   * Waits at most {@code timeout} for the device's user interrupt, for diagnostics: programs are
   * waited for with {@link #await}, which does not depend on the interrupt arriving. Only
   * interrupts raised since the last {@link #start} count, and the device raises one only for
   * causes INT_ENABLE enables (a backend that waits by interrupt enables DONE when it starts a
   * program).
   *
   * @return whether an interrupt arrived in time
   * @throws UnsupportedOperationException if this device was opened to wait by polling
   */
  boolean awaitInterrupt(Duration timeout);

  /** The performance counters, each read consistently (HI, LO, HI). */
  Map<Counter, Long> counters();

  /** Soft reset: aborts any program and returns every register to its reset value. */
  void reset();

  @Override
  void close();
}
